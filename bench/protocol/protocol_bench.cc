// protocol_bench: nanoseconds per Encode/Decode of the messages on the hot
// path (task heartbeat, a reply of 10 task assignments, a batch of 1000
// events). Prints one JSON object per message. Times are process CPU time,
// so a busy machine inflates them less than wall time would.
//
// Usage: protocol_bench [iterations]   (default 20000)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "core/common/ids.h"
#include "core/protocol/codec.h"

namespace {

namespace p = scaleout::core::protocol;

p::TaskHeartbeatRequest Heartbeat() {
  p::TaskHeartbeatRequest m;
  m.agent_id = scaleout::core::NewGuid();
  for (int i = 0; i < 10; ++i) m.tasks.push_back({scaleout::core::NewGuid(), 42 + i});
  return m;
}

p::RequestTasksReply Tasks() {
  p::RequestTasksReply m;
  for (int i = 0; i < 10; ++i) {
    p::TaskAssignment t;
    t.task_id = scaleout::core::NewGuid();
    t.execution_id = 1000 + i;
    t.lease_epoch = 7;
    t.lease_expires_at_ms = 1'700'000'060'000;
    t.folder = "Finance";
    t.project = "Nightly ETL";
    t.project_id = 12;
    t.project_version = 345;
    t.package_name = "Load.dtsx";
    t.executor = "process";
    t.parameters = {{20, "Server", "db01", "String", false},
                    {50, "LOGGING_LEVEL", "1", "Int32", false}};
    m.tasks.push_back(t);
  }
  return m;
}

p::ReportEventsRequest Events() {
  p::ReportEventsRequest m;
  m.agent_id = scaleout::core::NewGuid();
  m.batch_id = scaleout::core::NewGuid();
  const std::string task = scaleout::core::NewGuid();
  for (int i = 0; i < 1000; ++i) {
    p::EventMessage e;
    e.execution_id = 1000;
    e.task_id = task;
    e.event_message_guid = scaleout::core::NewGuid();
    e.message_time_ms = 1'700'000'000'000 + i;
    e.message_source = "Data Flow Task";
    e.message = "Data Flow Task: 10000 rows written to destination 'Sales'";
    m.events.push_back(e);
  }
  return m;
}

double NanosPer(std::clock_t ticks, long iterations) {
  return static_cast<double>(ticks) * 1e9 / CLOCKS_PER_SEC / static_cast<double>(iterations);
}

template <typename T>
void Measure(const char* name, const T& message, long iterations) {
  std::string buffer;
  const auto encode_start = std::clock();
  for (long i = 0; i < iterations; ++i) p::EncodeTo(message, &buffer);
  const auto encode_time = std::clock() - encode_start;

  T decoded;
  const auto decode_start = std::clock();
  for (long i = 0; i < iterations; ++i) {
    if (!p::Decode(buffer, &decoded).ok()) {
      std::fprintf(stderr, "%s: decode failed\n", name);
      std::exit(1);
    }
  }
  const auto decode_time = std::clock() - decode_start;
  std::printf(
      "{\"message\": \"%s\", \"bytes\": %zu, \"encode_ns\": %.0f, \"decode_ns\": %.0f, "
      "\"decode_mb_per_s\": %.0f}\n",
      name, buffer.size(), NanosPer(encode_time, iterations), NanosPer(decode_time, iterations),
      static_cast<double>(buffer.size()) * 1e3 / NanosPer(decode_time, iterations));
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  if (iterations <= 0) {
    std::fprintf(stderr, "usage: protocol_bench [iterations > 0]\n");
    return 2;
  }
  Measure("TaskHeartbeatRequest(10 tasks)", Heartbeat(), iterations);
  Measure("RequestTasksReply(10 tasks)", Tasks(), iterations);
  Measure("ReportEventsRequest(1000 events)", Events(), iterations / 100 + 1);
  return 0;
}
