// `scaleout cert`: creates self-signed certificates and prints thumbprints.
//
//   scaleout cert create --cn NAME [--dns N]... [--ip A]... [--days D]
//                        [--key-type ec|rsa] [--out-cert F] [--out-key F] [--force]
//   scaleout cert thumbprint FILE [--json]
//   scaleout cert curve create --name N [--out-dir DIR] [--force]
//   scaleout cert curve public FILE [--json]
//
// Exit codes: 0 ok, 1 failure (files, OpenSSL), 2 usage (bad options).
#include "host/commands/cert_command.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/security/certificates.h"
#include "core/security/curve_keys.h"
#include "host/commands/command_util.h"

namespace scaleout::host {
namespace {

namespace po = boost::program_options;
namespace security = core::security;

constexpr const char* kOverview =
    "Usage: scaleout cert <create|thumbprint|curve> [options]\n"
    "\n"
    "Creates certificates for mutual TLS and prints their thumbprints.\n"
    "  create        make a self-signed certificate and its private key\n"
    "  thumbprint    print the SHA-256 and SHA-1 thumbprints of a certificate\n"
    "  curve create  make a CURVE key pair for the zmq transport\n"
    "  curve public  print the CURVE public key of a key file\n"
    "\n"
    "Run 'scaleout cert <command> --help' for the options of each.\n";

// "Master Node 1" -> "Master_Node_1": a file name stem from a common name.
std::string FileStem(const std::string& common_name) {
  std::string stem;
  for (char c : common_name) {
    const bool safe =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    stem += safe ? c : '_';
  }
  return stem;
}

int Usage(const std::string& message, const po::options_description& options,
          const char* synopsis) {
  std::cerr << "scaleout cert: " << message << "\n\n" << synopsis << "\n" << options;
  return kExitUsage;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

int RunCreate(int argc, char** argv) {
  static constexpr const char* kSynopsis =
      "Usage: scaleout cert create --cn NAME [--dns NAME]... [--ip ADDRESS]... [--days D]\n"
      "                            [--key-type ec|rsa] [--out-cert FILE] [--out-key FILE] "
      "[--force]\n"
      "\n"
      "Creates a self-signed certificate (SHA-256, subjectAltName from --dns/--ip) and its\n"
      "private key (PEM, file mode 0600). Use the host names and addresses peers will use.\n";
  po::options_description options("Options");
  std::string common_name, key_type = "ec", out_cert, out_key;
  std::vector<std::string> dns_names, ip_addresses;
  int days = 3650;
  options.add_options()("help,h", "show this help")(
      "cn", po::value(&common_name), "subject common name (required), e.g. the host name")(
      "dns", po::value(&dns_names)->composing(), "a DNS subjectAltName (repeatable)")(
      "ip", po::value(&ip_addresses)->composing(), "an IP subjectAltName (repeatable)")(
      "days", po::value(&days)->default_value(3650), "validity in days (1..36500)")(
      "key-type", po::value(&key_type)->default_value("ec"), "ec (P-256) or rsa (3072 bits)")(
      "out-cert", po::value(&out_cert), "certificate file (default: <cn>.crt)")(
      "out-key", po::value(&out_key), "private key file (default: <cn>.key)")(
      "force", "replace existing files");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return Usage(e.what(), options, kSynopsis);
  }
  if (vm.count("help") != 0) {
    std::cout << kSynopsis << "\n" << options;
    return kExitOk;
  }
  if (common_name.empty()) return Usage("--cn is required", options, kSynopsis);
  sdk::Result<security::KeyType> type = security::ParseKeyType(key_type);
  if (!type.ok()) return Usage(type.status().message(), options, kSynopsis);

  security::CertificateRequest request;
  request.common_name = common_name;
  request.dns_names = dns_names;
  request.ip_addresses = ip_addresses;
  request.days = days;
  request.key_type = *type;
  request.cert_file = out_cert.empty() ? FileStem(common_name) + ".crt" : out_cert;
  request.key_file = out_key.empty() ? FileStem(common_name) + ".key" : out_key;
  request.overwrite = vm.count("force") != 0;

  sdk::Result<security::CertificateInfo> info = security::CreateSelfSignedCertificate(request);
  if (!info.ok()) {
    if (info.status().code() == sdk::StatusCode::kInvalidArgument) {
      return Usage(info.status().message(), options, kSynopsis);
    }
    std::cerr << "scaleout cert create: " << info.status().message() << "\n";
    return kExitFailed;
  }
  std::cout << "Certificate:        " << request.cert_file << "\n"
            << "Private key:        " << request.key_file << " (mode 0600; keep it secret)\n"
            << "Subject CN:         " << info->common_name << "\n"
            << "DNS names:          " << Join(info->dns_names) << "\n"
            << "IP addresses:       " << Join(info->ip_addresses) << "\n"
            << "Valid until:        " << info->not_after << "\n"
            << "SHA-256 thumbprint: " << info->sha256_thumbprint << "\n"
            << "SHA-1 thumbprint:   " << info->sha1_thumbprint << " (SSIS style)\n"
            << "\n"
            << "To trust a worker with this certificate, on the master run:\n"
            << "  scaleout manage worker add --cert " << request.cert_file << "\n"
            << "To pin a master with this certificate, give workers its SHA-256 thumbprint\n"
            << "(MasterHttpsCertThumbprint).\n";
  return kExitOk;
}

int RunThumbprint(int argc, char** argv) {
  static constexpr const char* kSynopsis =
      "Usage: scaleout cert thumbprint FILE [--json]\n"
      "\n"
      "Prints the SHA-256 thumbprint (the id scaleout uses), the SHA-1 thumbprint (what SSIS\n"
      "shows), the subject CN, the validity and the subjectAltName of a PEM or DER certificate.\n";
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("json", "print one JSON object");
  po::options_description hidden;
  std::vector<std::string> files;
  hidden.add_options()("file", po::value(&files));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return Usage(e.what(), options, kSynopsis);
  }
  if (vm.count("help") != 0) {
    std::cout << kSynopsis << "\n" << options;
    return kExitOk;
  }
  if (files.size() != 1) return Usage("give exactly one certificate FILE", options, kSynopsis);

  sdk::Result<security::CertificateInfo> info = security::ReadCertificateThumbprints(files[0]);
  if (!info.ok()) {
    std::cerr << "scaleout cert thumbprint: " << info.status().message() << "\n";
    return kExitFailed;
  }
  if (vm.count("json") != 0) {
    nlohmann::json out = {
        {"file", files[0]},
        {"sha256", info->sha256_thumbprint},
        {"sha1", info->sha1_thumbprint},
        {"common_name", info->common_name},
        {"not_before", info->not_before},
        {"not_after", info->not_after},
        {"dns_names", info->dns_names},
        {"ip_addresses", info->ip_addresses},
    };
    // Replace, not throw, on a CN that is not valid UTF-8.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::cout << "File:               " << files[0] << "\n"
            << "Subject CN:         " << info->common_name << "\n"
            << "DNS names:          " << Join(info->dns_names) << "\n"
            << "IP addresses:       " << Join(info->ip_addresses) << "\n"
            << "Not before:         " << info->not_before << "\n"
            << "Not after:          " << info->not_after << "\n"
            << "SHA-256 thumbprint: " << info->sha256_thumbprint << "\n"
            << "SHA-1 thumbprint:   " << info->sha1_thumbprint << "\n";
  return kExitOk;
}

int RunCurveCreate(int argc, char** argv) {
  static constexpr const char* kSynopsis =
      "Usage: scaleout cert curve create (--name NAME [--out-dir DIR] |\n"
      "                                   --out-public FILE --out-secret FILE) [--force] [--json]\n"
      "\n"
      "Creates a CURVE key pair for the zmq transport: DIR/NAME.curve (public key) and\n"
      "DIR/NAME.curve_secret (secret key, file mode 0600), in the ZeroMQ zcert text format.\n";
  po::options_description options("Options");
  std::string name, out_dir = ".", out_public, out_secret;
  options.add_options()("help,h", "show this help")(
      "name", po::value(&name), "key name, e.g. the host name (names both files)")(
      "out-dir", po::value(&out_dir)->default_value("."), "folder for both files (with --name)")(
      "out-public", po::value(&out_public), "public key file (instead of --name)")(
      "out-secret", po::value(&out_secret), "secret key file (instead of --name)")(
      "force", "replace existing files")("json", "print one JSON object");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return Usage(e.what(), options, kSynopsis);
  }
  if (vm.count("help") != 0) {
    std::cout << kSynopsis << "\n" << options;
    return kExitOk;
  }
  security::CurveKeyRequest request;
  if (!out_public.empty() || !out_secret.empty()) {
    if (out_public.empty() || out_secret.empty()) {
      return Usage("--out-public and --out-secret go together", options, kSynopsis);
    }
    request.public_file = out_public;
    request.secret_file = out_secret;
    request.name = name;
  } else {
    if (name.empty())
      return Usage("give --name (or --out-public and --out-secret)", options, kSynopsis);
    const std::string base = (out_dir.empty() ? std::string(".") : out_dir) + "/" + FileStem(name);
    request.public_file = base + ".curve";
    request.secret_file = base + ".curve_secret";
    request.name = name;
  }
  request.overwrite = vm.count("force") != 0;
  sdk::Result<security::CurveKeyPair> pair = security::CreateCurveKeyFiles(request);
  if (!pair.ok()) {
    if (pair.status().code() == sdk::StatusCode::kInvalidArgument) {
      return Usage(pair.status().message(), options, kSynopsis);
    }
    std::cerr << "scaleout cert curve create: " << pair.status().message() << "\n";
    return kExitFailed;
  }
  if (vm.count("json") != 0) {
    std::cout << nlohmann::json{{"public_file", request.public_file},
                                {"secret_file", request.secret_file},
                                {"public_key", pair->public_key}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  std::cout << "Public key file:    " << request.public_file << "\n"
            << "Secret key file:    " << request.secret_file << " (mode 0600; keep it secret)\n"
            << "CURVE public key:   " << pair->public_key << "\n"
            << "\n"
            << "A master uses both files as SSLCertFile/SSLKeyFile with Plugins.Transport zmq;\n"
            << "workers pin its public key (MasterHttpsCertThumbprint). A worker uses them as\n"
            << "WorkerCertFile/WorkerKeyFile; the master trusts it by its public key.\n";
  return kExitOk;
}

int RunCurvePublic(int argc, char** argv) {
  static constexpr const char* kSynopsis =
      "Usage: scaleout cert curve public FILE [--json]\n"
      "\n"
      "Prints the CURVE public key (Z85) held by a public or secret key file.\n";
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("json", "print one JSON object");
  po::options_description hidden;
  std::vector<std::string> files;
  hidden.add_options()("file", po::value(&files));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return Usage(e.what(), options, kSynopsis);
  }
  if (vm.count("help") != 0) {
    std::cout << kSynopsis << "\n" << options;
    return kExitOk;
  }
  if (files.size() != 1) return Usage("give exactly one key FILE", options, kSynopsis);
  sdk::Result<std::string> key = security::ReadCurvePublicKey(files[0]);
  if (!key.ok()) {
    std::cerr << "scaleout cert curve public: " << key.status().message() << "\n";
    return kExitFailed;
  }
  if (vm.count("json") != 0) {
    std::cout << nlohmann::json{{"file", files[0]}, {"public_key", *key}}.dump(2) << "\n";
  } else {
    std::cout << *key << "\n";
  }
  return kExitOk;
}

int RunCurve(int argc, char** argv) {
  static constexpr const char* kCurveUsage =
      "Usage: scaleout cert curve <create|public> [options]\n"
      "  create  make a CURVE key pair (NAME.curve, NAME.curve_secret)\n"
      "  public  print the public key of a key file\n";
  if (argc < 2) {
    std::cerr << kCurveUsage;
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "create") return RunCurveCreate(argc - 1, argv + 1);
  if (command == "public") return RunCurvePublic(argc - 1, argv + 1);
  if (command == "--help" || command == "-h") {
    std::cout << kCurveUsage;
    return kExitOk;
  }
  std::cerr << "scaleout cert curve: unknown command '" << command << "'\n\n" << kCurveUsage;
  return kExitUsage;
}

}  // namespace

int RunCertCommand(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kOverview;
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kOverview;
    return kExitOk;
  }
  if (command == "--version") {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  try {
    // The sub-command's own argv: argv[0] is "create" / "thumbprint".
    if (command == "create") return RunCreate(argc - 1, argv + 1);
    if (command == "thumbprint") return RunThumbprint(argc - 1, argv + 1);
    if (command == "curve") return RunCurve(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::cerr << "scaleout cert " << command << ": " << e.what() << "\n";
    return kExitFailed;
  }
  std::cerr << "scaleout cert: unknown command '" << command << "'\n\n" << kOverview;
  return kExitUsage;
}

}  // namespace scaleout::host
