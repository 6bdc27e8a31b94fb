// Opening an IMD file for a drive (open_medium.h's request and result), for open_medium() to
// call when the request says format=imd or the file starts with the IMD signature.
#pragma once

#include "hw/block/media/open_medium.h"

namespace fdplug::floppy {

Expected<OpenedMedium> open_imd_medium(const MediumRequest &request);

}  // namespace fdplug::floppy
