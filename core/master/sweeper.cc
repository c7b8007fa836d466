#include "core/master/sweeper.h"

#include <algorithm>

#include "core/common/thread_name.h"

namespace scaleout::core::master {

Sweeper::Sweeper(Clock& clock, sdk::Logger& logger) : clock_(clock), logger_(logger) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Add(Job job) {
  auto scheduled = std::make_unique<Scheduled>();
  scheduled->job = std::move(job);
  jobs_.push_back(std::move(scheduled));
}

void Sweeper::Start() {
  const std::int64_t now = clock_.SteadyMillis();
  for (auto& s : jobs_) s->next_due = now + s->job.first_run_after_ms;
  stopping_ = false;
  thread_ = NamedThread("sweeper", [this] { Loop(); });
}

void Sweeper::Stop() {
  stopping_ = true;
  clock_.WakeAll();
  if (thread_.joinable()) thread_.join();
}

sdk::Status Sweeper::RunNow(const std::string& name) {
  for (auto& s : jobs_) {
    if (s->job.name != name) continue;
    std::lock_guard lock(run_mutex_);
    sdk::Status status = s->job.run();
    ++s->runs;
    return status;
  }
  return sdk::Status::NotFound("no sweeper job named '" + name + "'");
}

std::int64_t Sweeper::runs(const std::string& name) const {
  for (const auto& s : jobs_) {
    if (s->job.name == name) return s->runs.load();
  }
  return -1;
}

void Sweeper::Loop() {
  while (!stopping_) {
    const std::int64_t now = clock_.SteadyMillis();
    std::int64_t next = now + 60'000;
    for (auto& s : jobs_) {
      if (stopping_) return;
      if (s->next_due <= now) {
        sdk::Status status;
        {
          std::lock_guard lock(run_mutex_);
          status = s->job.run();
        }
        ++s->runs;
        if (!status.ok()) logger_.Warn("sweep '" + s->job.name + "' failed: " + status.ToString());
        s->next_due = now + s->job.interval_ms;
      }
      next = std::min(next, s->next_due);
    }
    const std::int64_t wait = std::max<std::int64_t>(next - clock_.SteadyMillis(), 1);
    clock_.SleepFor(Millis(wait), stopping_);
  }
}

}  // namespace scaleout::core::master
