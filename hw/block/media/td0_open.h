// Opening a Teledisk file for a drive (open_medium.h's request and result), for open_medium() to
// call when the request says format=td0 or the file starts with a TD0 header.
#pragma once

#include "hw/block/media/open_medium.h"

namespace fdplug::floppy {

Expected<OpenedMedium> open_td0_medium(const MediumRequest &request);

}  // namespace fdplug::floppy
