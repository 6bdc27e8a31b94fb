// Between sector images and tracks: a sector image's disk as uniform tracks (to write it as an
// IMD file), and the raw sector image of a disk of tracks (whatever a raw file can hold of it:
// sector_image_losses() in track_geometry.h says what it cannot).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

// Every track of `image`'s geometry: MFM at its rate, sectors 1..SPT of 512 bytes in order.
// An Error when a sector cannot be read or the geometry exceeds the track model.
Expected<TrackDisk> read_tracks(DiskImage &image);

// The raw image of `disk` in the C × H × SPT of `geometry`, in LBA order: each sector is the
// first with the ID C H R 2 and 512 bytes of data on its track (whatever its mark or CRC);
// a sector the disk lacks is zeros.
std::vector<uint8_t> sector_image_of(const TrackDisk &disk, const Geometry &geometry);

}  // namespace fdplug::floppy
