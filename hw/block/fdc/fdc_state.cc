#include "hw/block/fdc/fdc_state.h"

namespace fdplug::floppy {

bool relative_instant_ok(int64_t rel, TimeForm form) {
    if (rel == kNever) return form == TimeForm::Deadline || form == TimeForm::Any;
    if (rel == kLongAgo) return form == TimeForm::InstantOrLongAgo || form == TimeForm::Any;
    return rel >= -kMaxRelativeNs && rel <= kMaxRelativeNs;
}

}  // namespace fdplug::floppy
