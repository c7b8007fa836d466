#include "core/protocol/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/core/protocol/msgpack_edit.h"
#include "tests/core/protocol/samples.h"

namespace scaleout::core::protocol {
namespace {

using sdk::StatusCode;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace ::scaleout::core::protocol::testing;  // NOLINT(build/namespaces)

// ---- Every message type -------------------------------------------------------

template <typename T>
T SampleOf();
template <>
ErrorReply SampleOf() {
  return SampleErrorReply();
}
template <>
RegisterRequest SampleOf() {
  return SampleRegisterRequest();
}
template <>
RegisterReply SampleOf() {
  return SampleRegisterReply();
}
template <>
AgentHeartbeatRequest SampleOf() {
  return SampleAgentHeartbeatRequest();
}
template <>
AgentHeartbeatReply SampleOf() {
  return SampleAgentHeartbeatReply();
}
template <>
RequestTasksRequest SampleOf() {
  return SampleRequestTasksRequest();
}
template <>
RequestTasksReply SampleOf() {
  return SampleRequestTasksReply();
}
template <>
GetProjectRequest SampleOf() {
  return SampleGetProjectRequest();
}
template <>
GetProjectReply SampleOf() {
  return SampleGetProjectReply();
}
template <>
TaskHeartbeatRequest SampleOf() {
  return SampleTaskHeartbeatRequest();
}
template <>
TaskHeartbeatReply SampleOf() {
  return SampleTaskHeartbeatReply();
}
template <>
ReportEventsRequest SampleOf() {
  return SampleReportEventsRequest();
}
template <>
ReportEventsReply SampleOf() {
  return SampleReportEventsReply();
}
template <>
ReportResultsRequest SampleOf() {
  return SampleReportResultsRequest();
}
template <>
ReportResultsReply SampleOf() {
  return SampleReportResultsReply();
}
template <>
ManageRequest SampleOf() {
  return SampleManageRequest();
}
template <>
ManageReply SampleOf() {
  return SampleManageReply();
}

template <typename T>
class ProtocolEveryMessageTest : public ::testing::Test {};

using AllMessages =
    ::testing::Types<ErrorReply, RegisterRequest, RegisterReply, AgentHeartbeatRequest,
                     AgentHeartbeatReply, RequestTasksRequest, RequestTasksReply, GetProjectRequest,
                     GetProjectReply, TaskHeartbeatRequest, TaskHeartbeatReply, ReportEventsRequest,
                     ReportEventsReply, ReportResultsRequest, ReportResultsReply, ManageRequest,
                     ManageReply>;
TYPED_TEST_SUITE(ProtocolEveryMessageTest, AllMessages);

TYPED_TEST(ProtocolEveryMessageTest, RoundTrips) {
  const TypeParam sample = SampleOf<TypeParam>();
  const std::string bytes = Encode(sample);
  TypeParam decoded;
  ASSERT_TRUE(Decode(bytes, &decoded).ok()) << Decode(bytes, &decoded).ToString();
  EXPECT_EQ(decoded, sample);
}

TYPED_TEST(ProtocolEveryMessageTest, EncodeToReusesTheBufferAndMatchesEncode) {
  const TypeParam sample = SampleOf<TypeParam>();
  std::string buffer = "left over from an earlier message";
  EncodeTo(sample, &buffer);
  EXPECT_EQ(buffer, Encode(sample));
  EncodeTo(sample, &buffer);
  EXPECT_EQ(buffer, Encode(sample));
}

TYPED_TEST(ProtocolEveryMessageTest, EnvelopeCarriesVersionAndType) {
  const std::string bytes = Encode(SampleOf<TypeParam>());
  sdk::Result<Message> message = Message::Parse(bytes);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->version(), kProtocolVersion);
  EXPECT_EQ(message->type(), TypeParam::kType);
  TypeParam decoded;
  ASSERT_TRUE(DecodeBody(*message, &decoded).ok());
  EXPECT_EQ(decoded, SampleOf<TypeParam>());
}

TYPED_TEST(ProtocolEveryMessageTest, TruncationAtEveryOffsetIsRefused) {
  const std::string bytes = Encode(SampleOf<TypeParam>());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    TypeParam decoded;
    const sdk::Status status = Decode(std::string_view(bytes.data(), size), &decoded);
    ASSERT_EQ(status.code(), StatusCode::kInvalidArgument)
        << "prefix " << size << ": " << status.ToString();
  }
}

TYPED_TEST(ProtocolEveryMessageTest, TrailingBytesAreRefused) {
  TypeParam decoded;
  const sdk::Status status = Decode(Encode(SampleOf<TypeParam>()) + '\xc0', &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("1 unexpected bytes after the message"));
}

TYPED_TEST(ProtocolEveryMessageTest, UnknownFieldsAreIgnored) {
  MsgpackEdit edit(Encode(SampleOf<TypeParam>()));
  std::map<std::string, std::vector<int>> future = {{"x", {1, 2, 3}}};
  edit.Set(edit.body(), "added_in_a_later_version", edit.Value(future));
  edit.Set(edit.root(), "trace_id", edit.Str("abc"));
  TypeParam decoded;
  ASSERT_TRUE(Decode(edit.Pack(), &decoded).ok()) << Decode(edit.Pack(), &decoded).ToString();
  EXPECT_EQ(decoded, SampleOf<TypeParam>());
}

TYPED_TEST(ProtocolEveryMessageTest, BodyOfTheWrongTypeIsRefused) {
  MsgpackEdit edit(Encode(SampleOf<TypeParam>()));
  edit.Set(edit.root(), "b", edit.Str("not a map"));
  TypeParam decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            std::string(MessageTypeName(TypeParam::kType)) + " must be a map, got string");
}

TYPED_TEST(ProtocolEveryMessageTest, AnotherMessageTypeIsRefused) {
  // A ManageReply is never what a decoder of another type wants.
  const std::string other = std::is_same_v<TypeParam, ManageReply>
                                ? Encode(SampleAgentHeartbeatReply())
                                : Encode(SampleManageReply());
  TypeParam decoded;
  const sdk::Status status = Decode(other, &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              StartsWith("expected " + std::string(MessageTypeName(TypeParam::kType))));
}

// ---- Content edge cases ------------------------------------------------------

TEST(LoggingLevelTest, EachLevelRecordsTheEventsSsisDocuments) {
  const int types[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 200, 400};
  for (int type : types) {
    EXPECT_FALSE(EventRecordedAtLoggingLevel(0, type)) << type;
    EXPECT_EQ(EventRecordedAtLoggingLevel(1, type), type != 90 && type != 140 && type != 200)
        << type;
    EXPECT_EQ(EventRecordedAtLoggingLevel(4, type), EventRecordedAtLoggingLevel(1, type)) << type;
    EXPECT_EQ(EventRecordedAtLoggingLevel(2, type), type == 110 || type == 120 || type == 130)
        << type;
    EXPECT_TRUE(EventRecordedAtLoggingLevel(3, type)) << type;
    EXPECT_TRUE(EventRecordedAtLoggingLevel(100, type)) << type;
  }
}

TEST(ProtocolCodecTest, EmptyListsRoundTrip) {
  RequestTasksReply tasks;
  GetProjectReply files;
  TaskHeartbeatRequest heartbeat;
  heartbeat.agent_id = kAgent;
  ReportEventsRequest events;
  events.agent_id = kAgent;
  events.batch_id = kBatch;
  ReportResultsReply acks;
  ManageRequest manage;
  manage.operation = "ping";
  RequestTasksReply t2;
  GetProjectReply f2;
  TaskHeartbeatRequest h2;
  ReportEventsRequest e2;
  ReportResultsReply a2;
  ManageRequest m2;
  ASSERT_TRUE(Decode(Encode(tasks), &t2).ok());
  ASSERT_TRUE(Decode(Encode(files), &f2).ok());
  ASSERT_TRUE(Decode(Encode(heartbeat), &h2).ok());
  ASSERT_TRUE(Decode(Encode(events), &e2).ok());
  ASSERT_TRUE(Decode(Encode(acks), &a2).ok());
  ASSERT_TRUE(Decode(Encode(manage), &m2).ok());
  EXPECT_TRUE(t2.tasks.empty());
  EXPECT_TRUE(f2.files.empty());
  EXPECT_EQ(h2, heartbeat);
  EXPECT_EQ(e2, events);
  EXPECT_TRUE(a2.results.empty());
  EXPECT_EQ(m2, manage);
}

TEST(ProtocolCodecTest, EmbeddedNulAndUnicodeSurvive) {
  GetProjectReply reply = SampleGetProjectReply();
  GetProjectReply decoded;
  ASSERT_TRUE(Decode(Encode(reply), &decoded).ok());
  ASSERT_EQ(decoded.files[0].content.size(), kBinary.size());
  EXPECT_EQ(decoded.files[0].content, kBinary);
  ReportEventsRequest events = SampleReportEventsRequest();
  ReportEventsRequest events_decoded;
  ASSERT_TRUE(Decode(Encode(events), &events_decoded).ok());
  EXPECT_EQ(events_decoded.events[0].message, kUnicode);
  EXPECT_EQ(events_decoded.events[0].message.size(), kUnicode.size());
}

TEST(ProtocolCodecTest, ExtremeIntegersRoundTrip) {
  ReportResultsRequest request = SampleReportResultsRequest();
  request.results[0].exit_code = std::numeric_limits<std::int32_t>::max();
  request.results[0].lease_epoch = std::numeric_limits<std::int64_t>::max();
  request.results[0].end_time_ms = kMaxTimeMs;
  ReportResultsRequest decoded;
  ASSERT_TRUE(Decode(Encode(request), &decoded).ok());
  EXPECT_EQ(decoded, request);
}

TEST(ProtocolCodecTest, MaximumSizedStringAndBinaryAreAccepted) {
  const DecodeLimits limits;
  RegisterRequest request = SampleRegisterRequest();
  request.description = std::string(limits.max_str, 'd');
  RegisterRequest decoded;
  ASSERT_TRUE(Decode(Encode(request), &decoded).ok());
  EXPECT_EQ(decoded.description.size(), limits.max_str);

  GetProjectReply reply;
  reply.files = {{"big.ispac", std::string(limits.max_bytes - 1024, '\x7f'), kSha}};
  GetProjectReply reply_decoded;
  ASSERT_TRUE(Decode(Encode(reply), &reply_decoded).ok());
  EXPECT_EQ(reply_decoded, reply);
}

TEST(ProtocolCodecTest, ProjectTransferLimitsAllowLargerProjects) {
  GetProjectReply reply;
  reply.files = {{"big.ispac", std::string(12u << 20, 'x'), kSha}};
  const std::string bytes = Encode(reply);
  GetProjectReply decoded;
  EXPECT_EQ(Decode(bytes, &decoded).code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(Decode(bytes, &decoded, DecodeLimits::ForProjectTransfer()).ok());
  EXPECT_EQ(decoded.files[0].content.size(), 12u << 20);
}

// ---- Missing fields and defaults --------------------------------------------------

TEST(ProtocolCodecTest, MissingFieldsGetDefaults) {
  MsgpackEdit edit(Encode(SampleRegisterRequest()));
  for (const char* key : {"machine_name", "display_name", "description", "tags", "max_task_count",
                          "cpu_count", "total_memory_mb", "version"}) {
    edit.Erase(edit.body(), key);
  }
  RegisterRequest decoded;
  ASSERT_TRUE(Decode(edit.Pack(), &decoded).ok());
  RegisterRequest expected;
  expected.agent_id = kAgent;
  EXPECT_EQ(decoded, expected);
  EXPECT_EQ(decoded.max_task_count, 10);
}

TEST(ProtocolCodecTest, MissingBodyMeansAllDefaults) {
  MsgpackEdit edit(Encode(SampleAgentHeartbeatReply()));
  edit.Erase(edit.root(), "b");
  AgentHeartbeatReply decoded;
  decoded.enabled = true;
  ASSERT_TRUE(Decode(edit.Pack(), &decoded).ok());
  EXPECT_FALSE(decoded.enabled);
}

TEST(ProtocolCodecTest, NilMeansDefault) {
  MsgpackEdit edit(Encode(SampleRegisterReply()));
  edit.Set(edit.body(), "lease_interval_ms", msgpack::object());
  RegisterReply decoded;
  ASSERT_TRUE(Decode(edit.Pack(), &decoded).ok());
  EXPECT_EQ(decoded.lease_interval_ms, RegisterReply{}.lease_interval_ms);
}

TEST(ProtocolCodecTest, MissingRequiredGuidIsRefused) {
  MsgpackEdit edit(Encode(SampleRequestTasksRequest()));
  edit.Erase(edit.body(), "agent_id");
  RequestTasksRequest decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "RequestTasksRequest.agent_id is required (a GUID)");
}

TEST(ProtocolCodecTest, MissingResultOutcomeIsRefused) {
  MsgpackEdit edit(Encode(SampleReportResultsRequest()));
  msgpack::object& results = *MsgpackEdit::Find(edit.body(), "results");
  edit.Erase(results.via.array.ptr[1], "result");
  ReportResultsRequest decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "ReportResultsRequest.results[1].result must be 1 (succeeded), 2 (failed) or 3 "
            "(canceled), got 0");
}

// ---- Validation names the field ------------------------------------------------------

// Encodes `sample`, sets body[key] = value, decodes; returns the status.
template <typename T, typename V>
sdk::Status DecodeWithField(const T& sample, const char* key, const V& value) {
  MsgpackEdit edit(Encode(sample));
  edit.Set(edit.body(), key, edit.Value(value));
  T decoded;
  return Decode(edit.Pack(), &decoded);
}

TEST(ProtocolCodecTest, OutOfRangeValueIsRefusedNamingTheField) {
  const sdk::Status status = DecodeWithField(SampleRequestTasksRequest(), "free_slots", -3);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "RequestTasksRequest.free_slots must be 0..10000, got -3");
}

TEST(ProtocolCodecTest, RangesAreChecked) {
  struct Case {
    sdk::Status status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {DecodeWithField(SampleRequestTasksRequest(), "wait_ms", 300'001),
       "RequestTasksRequest.wait_ms must be 0..300000, got 300001"},
      {DecodeWithField(SampleRegisterRequest(), "max_task_count", std::int64_t{1} << 40),
       "RegisterRequest.max_task_count must be -2147483648..2147483647, got 1099511627776"},
      {DecodeWithField(SampleRegisterRequest(), "max_task_count", 10'001),
       "RegisterRequest.max_task_count must be 0..10000, got 10001"},
      {DecodeWithField(SampleRegisterReply(), "lease_interval_ms", 0),
       "RegisterReply.lease_interval_ms must be 1..86400000, got 0"},
      {DecodeWithField(SampleAgentHeartbeatRequest(), "cpu_percent", 100.5),
       "AgentHeartbeatRequest.cpu_percent must be 0..100, got 100.5"},
      {DecodeWithField(SampleAgentHeartbeatRequest(), "cpu_percent", std::nan("")),
       "AgentHeartbeatRequest.cpu_percent must be a finite number"},
      {DecodeWithField(SampleGetProjectRequest(), "project_id", 0),
       "GetProjectRequest.project_id must be 1..9223372036854775807, got 0"},
      {DecodeWithField(SampleRegisterReply(), "master_time_ms", -1),
       "RegisterReply.master_time_ms must be 0..253402300799999, got -1"},
      {DecodeWithField(SampleErrorReply(), "code", 0), "ErrorReply.code must not be ok (0)"},
      {DecodeWithField(SampleManageReply(), "code", -1),
       "ManageReply.code must be 0..65535, got -1"},
      {DecodeWithField(SampleManageRequest(), "operation", ""),
       "ManageRequest.operation is required"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(c.status.message(), c.message);
  }
}

TEST(ProtocolCodecTest, WrongTypesAreRefusedNamingTheField) {
  struct Case {
    sdk::Status status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {DecodeWithField(SampleRequestTasksRequest(), "free_slots", std::string("4")),
       "RequestTasksRequest.free_slots must be an integer, got string"},
      {DecodeWithField(SampleRegisterRequest(), "machine_name", 7),
       "RegisterRequest.machine_name must be a string, got integer"},
      {DecodeWithField(SampleRegisterRequest(), "tags", std::string("linux")),
       "RegisterRequest.tags must be an array, got string"},
      {DecodeWithField(SampleRegisterRequest(), "tags", std::vector<int>{1}),
       "RegisterRequest.tags[0] must be a string, got integer"},
      {DecodeWithField(SampleRegisterReply(), "enabled", 1),
       "RegisterReply.enabled must be a boolean, got integer"},
      {DecodeWithField(SampleAgentHeartbeatRequest(), "cpu_percent", std::string("high")),
       "AgentHeartbeatRequest.cpu_percent must be a number, got string"},
      {DecodeWithField(SampleRequestTasksRequest(), "wait_ms", 1.5),
       "RequestTasksRequest.wait_ms must be an integer, got float"},
      {DecodeWithField(SampleManageRequest(), "args", std::vector<std::string>{"a"}),
       "ManageRequest.args must be a map, got array"},
      {DecodeWithField(SampleManageRequest(), "args", std::map<std::string, int>{{"n", 1}}),
       "ManageRequest.args.n must be a string, got integer"},
      {DecodeWithField(SampleManageRequest(), "args", std::map<int, std::string>{{1, "n"}}),
       "ManageRequest.args[0] must be a string key, got integer"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(c.status.message(), c.message);
  }
}

TEST(ProtocolCodecTest, BinaryFieldRefusesAString) {
  MsgpackEdit edit(Encode(SampleGetProjectReply()));
  msgpack::object& files = *MsgpackEdit::Find(edit.body(), "files");
  edit.Set(files.via.array.ptr[0], "content", edit.Str("text"));
  GetProjectReply decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.message(), "GetProjectReply.files[0].content must be binary, got string");
}

TEST(ProtocolCodecTest, NestedFieldErrorsCarryTheFullPath) {
  MsgpackEdit edit(Encode(SampleRequestTasksReply()));
  msgpack::object& tasks = *MsgpackEdit::Find(edit.body(), "tasks");
  msgpack::object& parameters = *MsgpackEdit::Find(tasks.via.array.ptr[0], "parameters");
  edit.Set(parameters.via.array.ptr[1], "name", edit.Value(5));
  RequestTasksReply decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "RequestTasksReply.tasks[0].parameters[1].name must be a string, got integer");
}

TEST(ProtocolCodecTest, GuidsAreNormalized) {
  const std::string lower = "{8d3f1a0c-4b7e-4f2a-9c61-0e5b2d7a9f13}";
  MsgpackEdit edit(Encode(SampleAgentHeartbeatRequest()));
  edit.Set(edit.body(), "agent_id", edit.Str(lower));
  AgentHeartbeatRequest decoded;
  ASSERT_TRUE(Decode(edit.Pack(), &decoded).ok());
  EXPECT_EQ(decoded.agent_id, kAgent);
}

TEST(ProtocolCodecTest, BadGuidsAreRefused) {
  const sdk::Status status =
      DecodeWithField(SampleReportEventsRequest(), "batch_id", std::string("batch-7\n"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "ReportEventsRequest.batch_id must be a GUID, got 'batch-7\\x0A'");
}

TEST(ProtocolCodecTest, EnumerationsAreValidated) {
  MsgpackEdit edit(Encode(SampleTaskHeartbeatReply()));
  msgpack::object& tasks = *MsgpackEdit::Find(edit.body(), "tasks");
  edit.Set(tasks.via.array.ptr[1], "status", edit.Value(9));
  TaskHeartbeatReply decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              StartsWith("TaskHeartbeatReply.tasks[1].status must be 1 (renewed)"));

  MsgpackEdit assignment(Encode(SampleRequestTasksReply()));
  msgpack::object& task = MsgpackEdit::Find(assignment.body(), "tasks")->via.array.ptr[0];
  assignment.Set(task, "logging_level", assignment.Value(5));
  RequestTasksReply reply;
  EXPECT_EQ(Decode(assignment.Pack(), &reply).message(),
            "RequestTasksReply.tasks[0].logging_level must be 0..4 or 100 (custom), got 5");
  assignment.Set(task, "logging_level", assignment.Value(100));
  msgpack::object& parameter = MsgpackEdit::Find(task, "parameters")->via.array.ptr[0];
  assignment.Set(parameter, "object_type", assignment.Value(40));
  EXPECT_EQ(Decode(assignment.Pack(), &reply).message(),
            "RequestTasksReply.tasks[0].parameters[0].object_type must be 20 (project), 30 "
            "(package) or 50 (execution), got 40");
}

TEST(ProtocolCodecTest, InvalidUtf8IsRefused) {
  for (const std::string& bad :
       {std::string("\xc3\x28"), std::string("\xed\xa0\x80"), std::string("\xc0\xaf"),
        std::string("\xf4\x90\x80\x80"), std::string("abc\xe2\x82")}) {
    const sdk::Status status = DecodeWithField(SampleManageReply(), "json", bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "ManageReply.json must be valid UTF-8");
  }
}

TEST(ProtocolCodecTest, ProjectFilePathsMustStayInsideTheCache) {
  for (const std::string& bad : {std::string("../etc/passwd"), std::string("/etc/passwd"),
                                 std::string("a//b"), std::string("a/./b"), std::string("a/"),
                                 std::string("a\\..\\b"), std::string("."), std::string("")}) {
    GetProjectReply reply = SampleGetProjectReply();
    reply.files[0].path = bad;
    GetProjectReply decoded;
    const sdk::Status status = Decode(Encode(reply), &decoded);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), StartsWith("GetProjectReply.files[0].path ")) << bad;
  }
}

TEST(ProtocolCodecTest, Sha256IsValidatedAndUppercased) {
  GetProjectReply reply = SampleGetProjectReply();
  reply.files[0].sha256 = std::string(64, 'a');
  GetProjectReply decoded;
  ASSERT_TRUE(Decode(Encode(reply), &decoded).ok());
  EXPECT_EQ(decoded.files[0].sha256, std::string(64, 'A'));
  reply.files[0].sha256 = "abc";
  EXPECT_EQ(Decode(Encode(reply), &decoded).message(),
            "GetProjectReply.files[0].sha256 must be 64 hex digits, got 'abc'");
}

TEST(ProtocolCodecTest, EndBeforeStartIsRefused) {
  ReportResultsRequest request = SampleReportResultsRequest();
  request.results[0].end_time_ms = request.results[0].start_time_ms - 1;
  ReportResultsRequest decoded;
  const sdk::Status status = Decode(Encode(request), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith("ReportResultsRequest.results[0].end_time_ms must not "
                                           "be before start_time_ms"));
}

TEST(ProtocolCodecTest, OverlongNamesAreRefused) {
  RegisterRequest request = SampleRegisterRequest();
  request.machine_name = std::string(kMaxNameBytes + 1, 'm');
  RegisterRequest decoded;
  const sdk::Status status = Decode(Encode(request), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "RegisterRequest.machine_name is 1025 bytes, limit 1024");
}

// ---- Envelope and versions ------------------------------------------------------

TEST(ProtocolEnvelopeTest, NewerMajorVersionIsRefused) {
  MsgpackEdit edit(Encode(SampleRegisterRequest()));
  edit.Set(edit.root(), "v", edit.Value(kProtocolVersion + 1));
  RegisterRequest decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(status.message(),
            "protocol version 2 is newer than this peer supports (1); upgrade this peer");
}

TEST(ProtocolEnvelopeTest, BadVersionsAreRefused) {
  MsgpackEdit edit(Encode(SampleRegisterRequest()));
  RegisterRequest decoded;
  edit.Set(edit.root(), "v", edit.Value(0));
  EXPECT_EQ(Decode(edit.Pack(), &decoded).message(), "envelope.v must be at least 1, got 0");
  edit.Set(edit.root(), "v", edit.Str("1"));
  EXPECT_EQ(Decode(edit.Pack(), &decoded).message(),
            "envelope.v must be an unsigned integer, got string");
  edit.Erase(edit.root(), "v");
  EXPECT_EQ(Decode(edit.Pack(), &decoded).message(), "envelope.v is missing");
}

TEST(ProtocolEnvelopeTest, UnknownOrMissingTypeIsRefused) {
  MsgpackEdit edit(Encode(SampleRegisterRequest()));
  edit.Set(edit.root(), "t", edit.Value(999));
  sdk::Result<Message> message = Message::Parse(edit.Pack());
  EXPECT_EQ(message.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(message.status().message(), "unknown message type 999 in protocol version 1");
  edit.Set(edit.root(), "t", edit.Value(-1));
  EXPECT_EQ(Message::Parse(edit.Pack()).status().message(),
            "envelope.t must be an unsigned integer, got integer");
  edit.Erase(edit.root(), "t");
  EXPECT_EQ(Message::Parse(edit.Pack()).status().message(), "envelope.t is missing");
}

TEST(ProtocolEnvelopeTest, NonMapAndEmptyInputAreRefused) {
  const std::string array = "\x92\x01\x02";  // [1, 2]
  EXPECT_EQ(Message::Parse(array).status().message(), "envelope must be a map, got array");
  EXPECT_EQ(Message::Parse("").status().message(), "empty message");
  EXPECT_EQ(Message::Parse("\xc1").status().code(), StatusCode::kInvalidArgument);  // reserved
}

TEST(ProtocolEnvelopeTest, DispatchOnType) {
  const std::string bytes = Encode(SampleTaskHeartbeatRequest());
  sdk::Result<Message> message = Message::Parse(bytes);
  ASSERT_TRUE(message.ok());
  switch (message->type()) {
    case MessageType::kTaskHeartbeatRequest: {
      TaskHeartbeatRequest request;
      ASSERT_TRUE(DecodeBody(*message, &request).ok());
      EXPECT_EQ(request, SampleTaskHeartbeatRequest());
      break;
    }
    default: FAIL() << "dispatched to " << MessageTypeName(message->type());
  }
  EXPECT_EQ(MessageTypeName(MessageType::kTaskHeartbeatRequest), "TaskHeartbeatRequest");
  EXPECT_FALSE(IsKnownMessageType(static_cast<MessageType>(2)));
}

TEST(ProtocolEnvelopeTest, WireLayoutIsStable) {
  // {"v":1,"t":13,"b":{"enabled":true}}: other implementations rely on it.
  const std::string expected =
      "\x83\xa1v\x01\xa1t\x0d\xa1"
      "b\x81\xa7"
      "enabled\xc3";
  EXPECT_EQ(Encode(SampleAgentHeartbeatReply()), expected);
}

// ---- Errors from the peer -----------------------------------------------------

TEST(ProtocolErrorReplyTest, ReplyDecoderReturnsThePeersStatus) {
  const std::string bytes = EncodeError(sdk::Status::NotFound("no task 7"));
  RegisterReply reply;
  const sdk::Status status = Decode(bytes, &reply);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "peer: no task 7");
  ErrorReply error;
  ASSERT_TRUE(Decode(bytes, &error).ok());
  EXPECT_EQ(ToStatus(error).code(), StatusCode::kNotFound);
}

TEST(ProtocolErrorReplyTest, OkStatusIsNeverSentAsSuccess) {
  ErrorReply error;
  ASSERT_TRUE(Decode(EncodeError(sdk::Status::Ok()), &error).ok());
  EXPECT_EQ(error.code, StatusCode::kInternal);
  EXPECT_EQ(ToStatus(ErrorReply{StatusCode::kOk, "x"}).code(), StatusCode::kInternal);
}

TEST(ProtocolErrorReplyTest, StatusCodesFromNewerPeersAreKept) {
  ErrorReply error{static_cast<StatusCode>(99), "new failure"};
  ErrorReply decoded;
  ASSERT_TRUE(Decode(Encode(error), &decoded).ok());
  EXPECT_EQ(static_cast<int>(decoded.code), 99);
  EXPECT_EQ(sdk::StatusCodeName(decoded.code), "unknown");
}

// ---- Limits -------------------------------------------------------------------

TEST(ProtocolLimitsTest, OversizedInputIsRefusedBeforeParsing) {
  DecodeLimits limits;
  limits.max_bytes = 64;
  RegisterRequest decoded;
  const sdk::Status status = Decode(Encode(SampleRegisterRequest()), &decoded, limits);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("limit 64 (DecodeLimits.max_bytes)"));
}

TEST(ProtocolLimitsTest, TooDeepNestingIsRefused) {
  // The envelope and body are two levels; an unknown field adds the rest.
  auto nested = [](int depth) {
    MsgpackEdit edit(Encode(SampleAgentHeartbeatReply()));
    msgpack::object value = edit.Value(1);
    for (int i = 0; i < depth; ++i) {
      auto* item = static_cast<msgpack::object*>(edit.zone().allocate_align(sizeof(value)));
      *item = value;
      value = msgpack::object();
      value.type = msgpack::type::ARRAY;
      value.via.array.size = 1;
      value.via.array.ptr = item;
    }
    edit.Set(edit.body(), "deep", value);
    return edit.Pack();
  };
  AgentHeartbeatReply decoded;
  EXPECT_TRUE(Decode(nested(6), &decoded).ok());
  const sdk::Status status = Decode(nested(7), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "nesting is deeper than 8 levels (DecodeLimits.max_depth)");
}

TEST(ProtocolLimitsTest, TooLongArrayIsRefused) {
  const DecodeLimits limits;
  AgentHeartbeatReply decoded;
  MsgpackEdit ok(Encode(SampleAgentHeartbeatReply()));
  ok.Set(ok.body(), "list", ok.Value(std::vector<bool>(limits.max_array, false)));
  EXPECT_TRUE(Decode(ok.Pack(), &decoded).ok());
  MsgpackEdit edit(Encode(SampleAgentHeartbeatReply()));
  edit.Set(edit.body(), "list", edit.Value(std::vector<bool>(limits.max_array + 1, false)));
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "an array has more than 100000 elements (DecodeLimits.max_array)");
}

TEST(ProtocolLimitsTest, TooBigMapStringAndBinaryAreRefused) {
  DecodeLimits limits;
  limits.max_map = 4;
  limits.max_str = 16;
  limits.max_bin = 8;
  RegisterRequest register_request;
  EXPECT_EQ(Decode(Encode(SampleRegisterRequest()), &register_request, limits).message(),
            "a map has more than 4 entries (DecodeLimits.max_map)");
  limits.max_map = 1024;
  EXPECT_EQ(Decode(Encode(SampleRegisterRequest()), &register_request, limits).message(),
            "a string is longer than 16 bytes (DecodeLimits.max_str)");
  GetProjectReply reply = SampleGetProjectReply();
  reply.files[0].path = "a";
  reply.files[0].sha256 = "";
  reply.files[1].path = "b";
  reply.files[1].sha256 = "";
  reply.files[0].content = std::string(9, 'x');
  GetProjectReply decoded;
  const sdk::Status status = Decode(Encode(reply), &decoded, limits);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "a binary is longer than 8 bytes (DecodeLimits.max_bin)");
}

TEST(ProtocolLimitsTest, TooManyEventsAreRefused) {
  const DecodeLimits limits;
  ReportEventsRequest request = SampleReportEventsRequest();
  request.events.resize(limits.max_events_per_batch + 1, request.events[0]);
  ReportEventsRequest decoded;
  const sdk::Status status = Decode(Encode(request), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            "ReportEventsRequest.events has 10001 items, limit 10000 "
            "(DecodeLimits.max_events_per_batch)");
  request.events.resize(limits.max_events_per_batch);
  EXPECT_TRUE(Decode(Encode(request), &decoded).ok());
}

TEST(ProtocolLimitsTest, TooManyTasksAreRefused) {
  DecodeLimits limits;
  limits.max_tasks_per_reply = 1;
  RequestTasksReply reply;
  TaskHeartbeatRequest heartbeat;
  ReportResultsRequest results;
  EXPECT_EQ(Decode(Encode(SampleRequestTasksReply()), &reply, limits).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(Decode(Encode(SampleTaskHeartbeatRequest()), &heartbeat, limits).message(),
            "TaskHeartbeatRequest.tasks has 2 items, limit 1 (DecodeLimits.max_tasks_per_reply)");
  EXPECT_EQ(Decode(Encode(SampleReportResultsRequest()), &results, limits).code(),
            StatusCode::kResourceExhausted);
  // Results that ride on a request for work have the same limit.
  RequestTasksRequest request;
  EXPECT_EQ(Decode(Encode(SampleRequestTasksRequest()), &request, limits).message(),
            "RequestTasksRequest.results has 2 items, limit 1 (DecodeLimits.max_tasks_per_reply)");
}

// A worker that predates results on RequestTasks sends none; a master that
// predates them ignores the field and answers without acks.
TEST(ProtocolCodecTest, RequestsForWorkWithoutResultsStayAsTheyWere) {
  RequestTasksRequest request = SampleRequestTasksRequest();
  request.results.clear();
  RequestTasksRequest decoded;
  ASSERT_TRUE(Decode(Encode(request), &decoded).ok());
  EXPECT_EQ(decoded, request);
  MsgpackEdit edit(Encode(request));
  EXPECT_EQ(MsgpackEdit::Find(edit.body(), "results"), nullptr);
  RequestTasksReply reply = SampleRequestTasksReply();
  reply.result_acks.clear();
  MsgpackEdit reply_edit(Encode(reply));
  EXPECT_EQ(MsgpackEdit::Find(reply_edit.body(), "result_acks"), nullptr);
}

TEST(ProtocolCodecTest, AResultOnARequestForWorkIsCheckedLikeAReportedOne) {
  MsgpackEdit edit(Encode(SampleRequestTasksRequest()));
  msgpack::object& results = *MsgpackEdit::Find(edit.body(), "results");
  edit.Set(results.via.array.ptr[1], "lease_epoch", edit.Value(0));
  RequestTasksRequest decoded;
  const sdk::Status status = Decode(edit.Pack(), &decoded);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith("RequestTasksRequest.results[1].lease_epoch must be"));
}

TEST(ProtocolLimitsTest, TotalItemsAreBounded) {
  DecodeLimits limits;
  limits.max_items = 20;
  RequestTasksReply reply;
  const sdk::Status status = Decode(Encode(SampleRequestTasksReply()), &reply, limits);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "the message has more than 20 items (DecodeLimits.max_items)");
}

TEST(ProtocolLimitsTest, HeadersDeclaringMoreThanTheInputHoldsAreRefusedCheaply) {
  // An envelope whose body is an array32 declaring 4 billion elements: were
  // the declared slots allocated up front this would ask for ~96 GiB.
  std::string bytes =
      "\x83\xa1v\x01\xa1t\x0d\xa1"
      "b\xdd\xff\xff\xff\xff";
  DecodeLimits limits;
  limits.max_array = std::numeric_limits<std::uint32_t>::max();
  limits.max_items = std::numeric_limits<std::size_t>::max();
  AgentHeartbeatReply decoded;
  const sdk::Status status = Decode(bytes, &decoded, limits);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith("truncated message: containers declare more items"));
}

}  // namespace
}  // namespace scaleout::core::protocol
