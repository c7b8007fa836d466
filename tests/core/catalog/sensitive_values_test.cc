// Sensitive values at rest: the catalog key's seal, and every place the
// catalog keeps a sensitive value (design defaults, execution values,
// environment variables, a project's configured values) holding it sealed,
// opened only for the claim that hands it to a package.
#include "core/catalog/sensitive_values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.h"
#include "core/catalog/environments.h"
#include "core/catalog/rows.h"
#include "core/catalog/sql.h"

namespace scaleout::core::catalog::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using StatusCode = sdk::StatusCode;

// ---- the key and its seal -----------------------------------------------------------------------

TEST(CatalogKeyTest, AKeyFileNamesTheSameKey) {
  auto key = CatalogKey::Generate();
  ASSERT_TRUE(key.ok());
  const std::string text = key->ToFileText();
  EXPECT_THAT(text, StartsWith("scaleout-catalog-key 1 "));
  EXPECT_EQ(text.size(), std::string("scaleout-catalog-key 1 ").size() + 64 + 1);
  auto again = CatalogKey::Parse(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id(), key->id());
  EXPECT_EQ(key->id().size(), 16u);
  // The id is derived, not a piece of the key.
  EXPECT_EQ(text.find(key->id()), std::string::npos);
  auto sealed = key->Seal("AES_256", "s3cret");
  ASSERT_TRUE(sealed.ok());
  auto opened = again->Open(*sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "s3cret");
}

TEST(CatalogKeyTest, BadKeyFilesAreRefusedSayingWhy) {
  EXPECT_THAT(CatalogKey::Parse("hello").status().message(),
              HasSubstr("not a scaleout catalog key"));
  EXPECT_THAT(CatalogKey::Parse("scaleout-catalog-key 1 abcd").status().message(),
              HasSubstr("64 hex digits"));
  EXPECT_THAT(
      CatalogKey::Parse("scaleout-catalog-key 1 " + std::string(64, 'g')).status().message(),
      HasSubstr("not hex"));
  EXPECT_EQ(CatalogKey::Parse("").status().code(), StatusCode::kInvalidArgument);
}

TEST(CatalogKeyTest, EachAlgorithmSealsAndOpens) {
  auto key = CatalogKey::Generate();
  ASSERT_TRUE(key.ok());
  for (const std::string algorithm : {"AES_128", "AES_192", "AES_256"}) {
    for (const std::string& plaintext : {std::string(), std::string("x"), std::string(4000, 'v'),
                                         std::string("ünï\ncode\t\x01")}) {
      auto sealed = key->Seal(algorithm, plaintext);
      ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
      EXPECT_THAT(*sealed, StartsWith(algorithm + ":" + key->id() + ":"));
      if (plaintext.size() > 3) {
        EXPECT_EQ(sealed->find(plaintext), std::string::npos);
      }
      auto opened = key->Open(*sealed);
      ASSERT_TRUE(opened.ok()) << algorithm << ": " << opened.status().ToString();
      EXPECT_EQ(*opened, plaintext);
    }
  }
  // A fresh nonce each time: equal values do not look equal.
  EXPECT_NE(key->Seal("AES_256", "same").value(), key->Seal("AES_256", "same").value());
  // A name SSIS knows but scaleout does not seal with becomes AES_256.
  EXPECT_THAT(key->Seal("DES", "x").value(), StartsWith("AES_256:"));
}

TEST(CatalogKeyTest, AnotherKeyOrADamagedValueDoesNotOpen) {
  auto key = CatalogKey::Generate();
  auto other = CatalogKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  // 14 bytes: with nonce and tag 42, so base64 has no padding and every
  // character carries six bits of the value.
  const std::string sealed = key->Seal("AES_256", "secret-value-x").value();
  ASSERT_EQ(sealed.back() == '=', false);

  auto wrong = other->Open(sealed);
  EXPECT_EQ(wrong.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(wrong.status().message(), HasSubstr(key->id()));
  EXPECT_THAT(wrong.status().message(), HasSubstr(other->id()));

  // Every single changed character of the payload is caught by the tag.
  const std::size_t payload = sealed.rfind(':') + 1;
  for (std::size_t i = payload; i < sealed.size(); ++i) {
    std::string damaged = sealed;
    damaged[i] = damaged[i] == 'A' ? 'B' : 'A';
    if (damaged == sealed) continue;
    auto opened = key->Open(damaged);
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << "position " << i;
  }
  // A value sealed with one algorithm does not open as another.
  std::string relabeled = sealed;
  relabeled.replace(0, 7, "AES_128");
  EXPECT_EQ(key->Open(relabeled).status().code(), StatusCode::kDataLoss);
  const std::string id = key->id();
  for (const std::string& bad :
       {std::string(), std::string("plain text"), "AES_256:" + id, "DES:" + id + ":AAAA",
        "AES_256:" + id + ":!!!!", "AES_256:" + id + ":QUJD"}) {
    auto opened = key->Open(bad);
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << bad;
  }
}

// ---- in the catalog -----------------------------------------------------------------------------

class SensitiveValuesTest : public CatalogTest {
 protected:
  void SetUpSecrets() {
    DeployBasic();  // project parameter Password, sensitive, design default "hunter2"
    EnableScaleOut();
    ASSERT_TRUE(
        TxR<std::int64_t>([&](Txn& t) { return CreateEnvironment(t, admin_, "F", "Prod"); }).ok());
    ASSERT_TRUE(Tx([&](Txn& t) {
                  return CreateEnvironmentVariable(t, admin_, "F", "Prod", "DbPassword", "String",
                                                   true, "env-secret-1");
                }).ok());
    ASSERT_TRUE(Tx([&](Txn& t) {
                  return CreateEnvironmentVariable(t, admin_, "F", "Prod", "Server", "String",
                                                   false, "plain-server");
                }).ok());
  }
  sdk::Status SetEnvSecret(const std::string& value) {
    return Tx([&](Txn& t) {
      return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "DbPassword", value);
    });
  }
  sdk::Status ConfigurePassword(const std::string& value, std::string_view value_type = "V") {
    return Tx([&](Txn& t) {
      return SetObjectParameterValue(t, admin_, kObjectProject, "F", "P", "Password", value,
                                     std::nullopt, value_type);
    });
  }
  std::int64_t Reference() {
    auto ref = TxR<std::int64_t>([&](Txn& t) {
      return CreateEnvironmentReference(t, admin_, "F", "P", "Prod", std::nullopt);
    });
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    return ref.ok() ? *ref : -1;
  }
  // Creates, gives Rows, starts and claims one execution; the Password its
  // task hands to the worker.
  std::string ClaimedPassword(std::optional<std::int64_t> reference = std::nullopt,
                              std::optional<std::string> given = std::nullopt) {
    CreateExecutionRequest r{"F", "P", "Main.dtsx", reference, false, true, true};
    auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    EXPECT_TRUE(Tx([&](Txn& t) {
                  return SetExecutionParameterValue(t, admin_, *id, kObjectPackage, "Rows", "5");
                }).ok());
    if (given) {
      EXPECT_TRUE(Tx([&](Txn& t) {
                    return SetExecutionParameterValue(t, admin_, *id, kObjectProject, "Password",
                                                      *given);
                  }).ok());
    }
    EXPECT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, *id); }).ok());
    std::vector<ClaimedTask> tasks = Claim(worker_, 1);
    EXPECT_EQ(tasks.size(), 1u);
    if (tasks.size() != 1) return "";
    for (const ParameterValue& p : tasks[0].parameters) {
      if (p.parameter_name == "Password") return p.value.value_or("<null>");
    }
    ADD_FAILURE() << "the claimed task has no Password";
    return "";
  }
  std::string worker_;
};

TEST_P(SensitiveValuesTest, EveryStoredSensitiveValueIsSealedAndTheClaimOpensIt) {
  SetUpSecrets();
  worker_ = AddWorker('a', true, 100);
  EXPECT_EQ(ClaimedPassword(), "hunter2");  // the design default
  const std::int64_t ref = Reference();
  ASSERT_TRUE(ConfigurePassword("DbPassword", "R").ok());
  EXPECT_EQ(ClaimedPassword(ref), "env-secret-1");  // bound to a sensitive variable
  ASSERT_TRUE(SetEnvSecret("env-secret-2").ok());
  EXPECT_EQ(ClaimedPassword(ref), "env-secret-2");
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  EXPECT_EQ(ClaimedPassword(), "configured-secret");                         // a configured value
  EXPECT_EQ(ClaimedPassword(std::nullopt, "given-secret"), "given-secret");  // given per run
  // A plain variable bound to the sensitive parameter is sealed on the way in.
  ASSERT_TRUE(ConfigurePassword("Server", "R").ok());
  EXPECT_EQ(ClaimedPassword(ref), "plain-server");

  const std::string everything = Snapshot();
  for (const char* secret :
       {"hunter2", "env-secret-1", "env-secret-2", "configured-secret", "given-secret"}) {
    EXPECT_THAT(everything, Not(HasSubstr(secret))) << secret << " is stored in plaintext";
  }
  EXPECT_THAT(everything, HasSubstr("AES_256:" + key_.id() + ":"));
  // The plain variable stays plain where it is not sensitive.
  EXPECT_THAT(everything, HasSubstr("plain-server"));
}

TEST_P(SensitiveValuesTest, WithoutTheKeySensitiveWritesAreRefusedAndChangeNothing) {
  SetUpSecrets();
  txn_key_ = nullptr;
  EXPECT_REFUSED_UNCHANGED(SetEnvSecret("x"), StatusCode::kFailedPrecondition, "catalog key");
  EXPECT_REFUSED_UNCHANGED(ConfigurePassword("x"), StatusCode::kFailedPrecondition, "catalog key");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return CreateEnvironmentVariable(t, admin_, "F", "Prod", "New",
                                                              "String", true, "x");
                           }),
                           StatusCode::kFailedPrecondition, "catalog key");
  ParameterSpec secret;
  secret.name = "Password";
  secret.default_value = "v2-secret";
  secret.sensitive = true;
  const ProjectDeployment d = NextVersion({secret});
  EXPECT_REFUSED_UNCHANGED(
      TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).status(),
      StatusCode::kFailedPrecondition, "catalog key");
  // Plain values need no key.
  EXPECT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "Server", "other");
              }).ok());
}

TEST_P(SensitiveValuesTest, ProtectingAVariableSealsItsValueAndUnprotectingOpensIt) {
  SetUpSecrets();
  auto protect = [&](const std::string& name, bool sensitive) {
    return Tx([&](Txn& t) {
      return SetEnvironmentVariableProtection(t, admin_, "F", "Prod", name, sensitive);
    });
  };
  ASSERT_TRUE(protect("Server", true).ok());
  EXPECT_THAT(Snapshot(), Not(HasSubstr("plain-server")));
  worker_ = AddWorker('a', true, 100);
  const std::int64_t ref = Reference();
  ASSERT_TRUE(ConfigurePassword("Server", "R").ok());
  EXPECT_EQ(ClaimedPassword(ref), "plain-server");
  ASSERT_TRUE(protect("DbPassword", false).ok());
  EXPECT_THAT(Snapshot(), HasSubstr("'env-secret-1'"));
  // The same setting again changes nothing; without the key nothing changes either.
  std::string before = Snapshot();
  ASSERT_TRUE(protect("DbPassword", false).ok());
  EXPECT_EQ(Snapshot(), before);
  txn_key_ = nullptr;
  EXPECT_REFUSED_UNCHANGED(protect("DbPassword", true), StatusCode::kFailedPrecondition,
                           "catalog key");
  EXPECT_REFUSED_UNCHANGED(protect("Server", false), StatusCode::kFailedPrecondition,
                           "catalog key");
  txn_key_ = &key_;
  EXPECT_REFUSED_UNCHANGED(protect("Nope", true), StatusCode::kNotFound, "has no variable 'Nope'");
  EXPECT_REFUSED_UNCHANGED(Tx([&](Txn& t) {
                             return SetEnvironmentVariableProtection(t, reader_, "F", "Prod",
                                                                     "Server", false);
                           }),
                           StatusCode::kPermissionDenied, "ssis_admin");
  // A sealed value's type is checked on its plaintext and it stays sealed.
  auto retype = [&](const std::string& name, const std::string& type) {
    return Tx(
        [&](Txn& t) { return SetEnvironmentVariableType(t, admin_, "F", "Prod", name, type); });
  };
  EXPECT_REFUSED_UNCHANGED(retype("Server", "Int32"), StatusCode::kInvalidArgument,
                           "set its value first");
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetEnvironmentVariableValue(t, admin_, "F", "Prod", "Server", "42");
              }).ok());
  ASSERT_TRUE(retype("Server", "Int32").ok());
  EXPECT_THAT(Snapshot(), Not(HasSubstr("'42'")));
  EXPECT_REFUSED_UNCHANGED(retype("Server", "Int128"), StatusCode::kInvalidArgument, "not known");
}

TEST_P(SensitiveValuesTest, ChangingTheAlgorithmSealsEveryValueAgain) {
  SetUpSecrets();
  worker_ = AddWorker('a', true, 100);
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  auto configure = [&](const std::string& algorithm) {
    return Tx(
        [&](Txn& t) { return ConfigureCatalog(t, admin_, "ENCRYPTION_ALGORITHM", algorithm); });
  };
  ASSERT_TRUE(configure("aes_128").ok());
  std::string everything = Snapshot();
  EXPECT_THAT(everything, Not(HasSubstr("AES_256:" + key_.id())));
  EXPECT_THAT(everything, HasSubstr("AES_128:" + key_.id()));
  EXPECT_EQ(ClaimedPassword(), "configured-secret");
  const std::int64_t ref = Reference();
  ASSERT_TRUE(ConfigurePassword("DbPassword", "R").ok());
  EXPECT_EQ(ClaimedPassword(ref), "env-secret-1");
  // New values are sealed with the new algorithm too.
  ASSERT_TRUE(SetEnvSecret("env-secret-3").ok());
  EXPECT_THAT(Snapshot(), Not(HasSubstr("AES_256:" + key_.id())));
  EXPECT_EQ(ClaimedPassword(ref), "env-secret-3");

  EXPECT_REFUSED_UNCHANGED(configure("TRIPLE_DES"), StatusCode::kInvalidArgument, "AES_256");
  EXPECT_REFUSED_UNCHANGED(configure("AES_512"), StatusCode::kInvalidArgument, "AES_128");
}

TEST_P(SensitiveValuesTest, AValueThatDoesNotOpenRefusesTheChangeAndNothingIsSealedAgain) {
  SetUpSecrets();
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  ASSERT_TRUE(internal::Execute(conn(),
                                "UPDATE environment_variables SET value = 'AES_256:" + key_.id() +
                                    ":QUJD' WHERE name = 'DbPassword'",
                                [](internal::Query&) {})
                  .ok());
  EXPECT_REFUSED_UNCHANGED(
      Tx([&](Txn& t) { return ConfigureCatalog(t, admin_, "ENCRYPTION_ALGORITHM", "AES_192"); }),
      StatusCode::kDataLoss, "damaged");
}

TEST_P(SensitiveValuesTest, TheMasterSealsWhatAnOlderCatalogKeptInPlaintextOnce) {
  SetUpSecrets();
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  // As a catalog before values were sealed: the same rows, in plaintext and
  // (for configured values) without the flag; one value already sealed.
  for (const std::string sql :
       {"UPDATE object_parameters SET default_value = 'old-default' WHERE sensitive = 1",
        "UPDATE environment_variables SET value = 'old-env' WHERE name = 'DbPassword'",
        "UPDATE object_parameter_values SET value = 'old-configured', sensitive = 0"}) {
    ASSERT_TRUE(internal::Execute(conn(), sql, [](internal::Query&) {}).ok()) << sql;
  }
  auto protect = [&](const CatalogKey& key) {
    return TxR<ProtectResult>([&](Txn& t) { return ProtectSensitiveValues(t, key); });
  };
  auto first = protect(key_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->first_use);
  EXPECT_EQ(first->sealed, 3);  // the three plaintexts; nothing else was sealed or sensitive
  const std::string everything = Snapshot();
  for (const char* secret : {"old-default", "old-env", "old-configured"}) {
    EXPECT_THAT(everything, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(everything, HasSubstr("'" + std::string(kKeyIdProperty) + "'|'" + key_.id() + "'"));
  worker_ = AddWorker('a', true, 100);
  EXPECT_EQ(ClaimedPassword(), "old-configured");

  // Again with the same key: nothing to do.
  const std::string before = Snapshot();
  auto second = protect(key_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->first_use);
  EXPECT_EQ(second->sealed, 0);
  EXPECT_EQ(Snapshot(), before);
  // Another key is refused, naming both.
  auto other = CatalogKey::Generate().value();
  auto refused = protect(other);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr(key_.id()));
  EXPECT_THAT(refused.status().message(), HasSubstr(other.id()));
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(SensitiveValuesTest, RotatingTheKeySealsEveryValueWithTheNewOneAndKeepsItsAlgorithm) {
  SetUpSecrets();
  ASSERT_TRUE(TxR<ProtectResult>([&](Txn& t) { return ProtectSensitiveValues(t, key_); }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return ConfigureCatalog(t, admin_, "ENCRYPTION_ALGORITHM", "AES_192");
              }).ok());
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  const CatalogKey next = CatalogKey::Generate().value();
  auto rotate = [&](const CatalogKey& current) {
    return TxR<std::int64_t>([&](Txn& t) { return RotateCatalogKey(t, current, next); });
  };
  // Only from the key the values are sealed with.
  const CatalogKey stranger = CatalogKey::Generate().value();
  EXPECT_REFUSED_UNCHANGED(rotate(stranger).status(), StatusCode::kFailedPrecondition, key_.id());

  auto rotated = rotate(key_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(*rotated, 3);  // the design default, the variable, the configured value
  const std::string everything = Snapshot();
  EXPECT_THAT(everything, Not(HasSubstr(key_.id())));
  EXPECT_THAT(everything, HasSubstr("AES_192:" + next.id() + ":"));
  EXPECT_THAT(everything, Not(HasSubstr("AES_256:")));
  // The catalog now needs the new key: the old one is refused, and claims
  // through the new one open the values.
  EXPECT_EQ(
      TxR<ProtectResult>([&](Txn& t) { return ProtectSensitiveValues(t, key_); }).status().code(),
      StatusCode::kFailedPrecondition);
  txn_key_ = &next;
  worker_ = AddWorker('a', true, 100);
  EXPECT_EQ(ClaimedPassword(), "configured-secret");
  CreateExecutionRequest r{"F", "P", "Main.dtsx", std::nullopt, false, true, true};
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(Tx([&](Txn& t) {
                return SetExecutionParameterValue(t, admin_, *id, kObjectPackage, "Rows", "5");
              }).ok());
  ASSERT_TRUE(Tx([&](Txn& t) { return StartExecution(t, admin_, *id); }).ok());
  // A claim through the old key cannot open the values: that execution
  // fails at once, saying why, and claims go on for the others.
  txn_key_ = &key_;
  auto claimed =
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, worker_, 1, 60000); });
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(Exec(*id).status, ExecutionStatus::kFailed);
  const std::vector<Task> attempts = Tasks(*id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, ExecutionStatus::kFailed);
  EXPECT_THAT(attempts[0].result_message, HasSubstr("the package was not started"));
  EXPECT_THAT(attempts[0].result_message, HasSubstr("project parameter 'Password'"));
  EXPECT_THAT(attempts[0].result_message, HasSubstr(next.id()));
  EXPECT_EQ(ClaimedCount(worker_), RunningCount(worker_));
  // Without any key a claim is refused whole, nothing written.
  txn_key_ = &next;
  const std::int64_t later = StartedExecution();
  txn_key_ = nullptr;
  EXPECT_REFUSED_UNCHANGED(TxR<std::vector<ClaimedTask>>([&](Txn& t) {
                             return ClaimTasks(t, worker_, 1, 60000);
                           }).status(),
                           StatusCode::kFailedPrecondition, "catalog key");
  EXPECT_EQ(Exec(later).status, ExecutionStatus::kPending);
}

TEST_P(SensitiveValuesTest, ValuesOfAnotherKeyWithTheRecordOfItLostAreNotSealedAgain) {
  SetUpSecrets();  // sealed with key_, and no master recorded it yet
  const CatalogKey other = CatalogKey::Generate().value();
  EXPECT_REFUSED_UNCHANGED(
      TxR<ProtectResult>([&](Txn& t) { return ProtectSensitiveValues(t, other); }).status(),
      StatusCode::kFailedPrecondition, "sealed with catalog key " + key_.id());
  EXPECT_TRUE(TxR<ProtectResult>([&](Txn& t) { return ProtectSensitiveValues(t, key_); }).ok());
}

TEST_P(SensitiveValuesTest, AValueSetWhileSensitiveStaysHiddenAndOpensForAVersionThatIsNot) {
  SetUpSecrets();
  worker_ = AddWorker('a', true, 100);
  ASSERT_TRUE(ConfigurePassword("configured-secret").ok());
  // Version 2 declares Password without "sensitive".
  ParameterSpec password;
  password.name = "Password";
  ParameterSpec rows;
  rows.object_type = kObjectPackage;
  rows.object_name = "Main.dtsx";
  rows.name = "Rows";
  rows.data_type = "Int32";
  const ProjectDeployment d = NextVersion({password, rows});
  ASSERT_TRUE(TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); }).ok());
  auto listed = TxR<std::vector<ObjectParameter>>(
      [&](Txn& t) { return ListObjectParameters(t, reader_, "F", "P"); });
  ASSERT_TRUE(listed.ok());
  for (const ObjectParameter& p : *listed) {
    if (p.parameter_name != "Password") continue;
    EXPECT_FALSE(p.sensitive);
    EXPECT_TRUE(p.value_set);
    EXPECT_FALSE(p.default_value.has_value()) << *p.default_value;
  }
  EXPECT_EQ(ClaimedPassword(), "configured-secret");
}

INSTANTIATE_TEST_SUITE_P(Storage, SensitiveValuesTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<StorageParam>& param_info) {
                           return param_info.param.label;
                         });

}  // namespace
}  // namespace scaleout::core::catalog::testing
