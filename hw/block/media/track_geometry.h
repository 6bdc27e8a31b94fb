// How a disk of tracks meets the sector interface (DiskImage, floppy_geometry.h): the C × H × SPT
// geometry and drive type it takes, and what a raw sector image of it would lose.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

// What a raw image of `disk` would lose, one line per kind of loss naming the first track it
// happens on. Empty when the disk is uniform: every track of C × H recorded, MFM at one rate,
// sectors 1..SPT in that order with IDs C H R 2, 512 bytes, normal marks and good CRCs.
std::vector<std::string> sector_image_losses(const TrackDisk &disk);

// The geometry `disk` has through the sector interface in a drive of type `drive` (Auto: the
// medium's own type): the table format with its C × H × SPT and data rate family if there is
// one, else one made from the tracks (the most common rate, the most sectors on a track).
// An UnknownSize Error when the disk has no track or the drive cannot read it.
Expected<FormatChoice> choose_track_format(const TrackDisk &disk, DriveType drive);

}  // namespace fdplug::floppy
