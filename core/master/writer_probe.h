// WriterProbe: is the catalog writer still committing? The master's
// service watchdog (core/common/service_watchdog.h) asks once per ping.
//
// Each Check() submits an empty operation and answers for the one before:
// healthy when that one has been acknowledged (or there was none), else a
// reason saying how long it has waited. So a writer that hangs (a storage
// call that never returns, a lock never released) stops the pings after one
// ping period, without any thread blocking on it.
//
// Thread-safety: Check() from one thread at a time (the watchdog's).
#ifndef SCALEOUT_CORE_MASTER_WRITER_PROBE_H_
#define SCALEOUT_CORE_MASTER_WRITER_PROBE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/catalog/catalog_writer.h"
#include "core/common/clock.h"

namespace scaleout::core::master {

class WriterProbe {
 public:
  // `writer` and `clock` must outlive the probe.
  WriterProbe(catalog::CatalogWriter& writer, Clock& clock) : writer_(writer), clock_(clock) {}

  // "" while the writer acknowledged the previous probe, else why not.
  std::string Check();

 private:
  catalog::CatalogWriter& writer_;
  Clock& clock_;
  // Shared with the probe's callback, which may run after the probe is gone.
  std::shared_ptr<std::atomic<bool>> acknowledged_;
  std::int64_t submitted_at_ = 0;  // steady ms
};

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_WRITER_PROBE_H_
