// Saving and loading the controller as one blob (fdc_state_blob.h).
#include "hw/block/state/fdc_state_blob.h"

#include <string>

#include "hw/block/state/fdc_state_format.h"

namespace fdplug::floppy::state_format {

Expected<std::vector<uint8_t>> save_blob(Fdc82077 &fdc) {
    for (unsigned u = 0; u < Fdc82077::kUnits; ++u) {
        DiskImage *m = fdc.drive(u).media();
        if (!m) continue;
        if (Status flushed = m->flush(); !flushed)
            return flushed.error().prefixed("cannot flush the medium of unit " + std::to_string(u) +
                                            ": ");
    }
    Expected<FdcState> state = fdc.save_state();
    if (!state) return state.error();
    return encode(*state);
}

Status load_blob(Fdc82077 &fdc, std::span<const uint8_t> blob) {
    FdcState state;
    std::string error;
    if (!decode(blob, &state, &error)) return Error(ErrorKind::Failed, error);
    return fdc.load_state(state);
}

}  // namespace fdplug::floppy::state_format
