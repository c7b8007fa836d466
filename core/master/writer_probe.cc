#include "core/master/writer_probe.h"

namespace scaleout::core::master {

std::string WriterProbe::Check() {
  const std::int64_t now = clock_.SteadyMillis();
  if (acknowledged_ && !acknowledged_->load()) {
    return "the catalog writer has not finished a transaction submitted " +
           std::to_string(now - submitted_at_) +
           " ms ago; the catalog's storage may hang (check the disk or the database server)";
  }
  acknowledged_ = std::make_shared<std::atomic<bool>>(false);
  submitted_at_ = now;
  writer_.Submit([](sdk::Connection&) { return sdk::Status::Ok(); },
                 // Any outcome counts: a refusal (stopping) or an error is an
                 // answer; only silence means a hang.
                 [acknowledged = acknowledged_](const sdk::Status&) { acknowledged->store(true); });
  return "";
}

}  // namespace scaleout::core::master
