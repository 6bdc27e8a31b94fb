// Copying tracks out of any track medium, data and all: one track (what a transient medium's
// overlay takes before its first write there, track_overlay.h) or the whole disk (what a commit
// or an export writes).
#pragma once

#include <optional>

#include "hw/block/error/expected.h"
#include "hw/block/media/track.h"
#include "hw/block/media/track_disk.h"
#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

// The track at (c, h) with every sector's data; nullopt where the medium has none
// (unformatted). An IoError when the medium fails to give a track or a sector's data.
Expected<std::optional<Track>> copy_track(TrackMedium &medium, unsigned c, unsigned h);

// Every track of the medium's cylinders and heads.
Expected<TrackDisk> copy_disk(TrackMedium &medium);

}  // namespace fdplug::floppy
