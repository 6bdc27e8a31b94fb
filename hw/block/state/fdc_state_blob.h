// The controller's whole state as one blob of the wire format (fdc_state_format.h) and back:
// what a host's save and restore call, whichever host it is (the fdplug plugin ABI's
// save_state/load_state, the Bochs adapter's parameter-tree file).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/fdc/fdc82077.h"

namespace fdplug::floppy::state_format {

// Flushes each medium first, so that its file holds the bytes the state's fingerprints name,
// then saves and encodes the state. An error names the unit whose medium failed.
Expected<std::vector<uint8_t>> save_blob(Fdc82077 &fdc);

// Decodes and validates the blob completely (the format, then the state against this
// controller, its drives and media) before anything changes; on failure the controller is as
// it was and the error names the field.
Status load_blob(Fdc82077 &fdc, std::span<const uint8_t> blob);

}  // namespace fdplug::floppy::state_format
