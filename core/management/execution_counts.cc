#include "core/management/execution_counts.h"

#include "core/management/catalog_queries.h"

namespace scaleout::core::management {

sdk::Result<std::map<int, std::int64_t>> ExecutionCounts::Get() {
  const std::uint64_t ticket = ++requests_;
  std::lock_guard lock(mutex_);
  const bool began_after_request = counted_at_ >= 0 && counted_from_ >= ticket;
  const bool recent = counted_at_ >= 0 && clock_.SteadyMillis() - counted_at_ < reuse_.count();
  if (began_after_request || recent) return counts_;
  const std::uint64_t from = requests_.load();
  auto counted = CountLocked();
  if (!counted.ok()) {
    connection_.reset();  // a broken connection is not reused
    return counted.status();
  }
  counts_ = *counted;
  counted_at_ = clock_.SteadyMillis();
  counted_from_ = from;
  return counts_;
}

sdk::Result<std::map<int, std::int64_t>> ExecutionCounts::CountLocked() {
  if (!connection_) {
    SCALEOUT_ASSIGN_OR_RETURN(connection_, storage_.Open());
  }
  ++scans_;
  // One read transaction: a consistent snapshot, whatever the writer does.
  SCALEOUT_RETURN_IF_ERROR(connection_->Begin(sdk::TransactionMode::kRead));
  auto counts = CountExecutionsByStatus(*connection_);
  const sdk::Status ended = counts.ok() ? connection_->Commit() : connection_->Rollback();
  if (!counts.ok()) return counts.status();
  SCALEOUT_RETURN_IF_ERROR(ended);
  return counts;
}

void ExecutionCounts::Close() {
  std::lock_guard lock(mutex_);
  connection_.reset();
}

std::int64_t ExecutionCounts::scans() const {
  std::lock_guard lock(mutex_);
  return scans_;
}

}  // namespace scaleout::core::management
