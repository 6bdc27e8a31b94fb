// ImageDisk (.IMD) files, read into the track model and written back from it. The layout:
//
//   "IMD v.vv: dd/mm/yyyy hh:mm:ss" CR LF, a free comment, 0x1A; then per track
//   mode (data rate and FM/MFM), cylinder, head (bit 7: cylinder map follows, bit 6: head map),
//   sector count, size code (0..6: 128 << code bytes), the sector numbering map (R of each
//   sector in physical order), the optional cylinder and head maps (C and H of each ID), and one
//   data record per sector (type byte, then the data, or one fill byte when compressed).
//
// Every declared size is checked against the bytes that are there and against the track
// model's bounds before anything is allocated; an error names the byte offset and the problem.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

struct ImdFile {
    // Everything before the 0x1A: the signature line ("IMD 1.18: 01/02/2024 10:00:00"), its
    // line end, then the comment. Kept verbatim so that a rewritten file keeps it.
    std::string header;
    TrackDisk disk;
};

// The first four bytes of every IMD file.
inline constexpr std::string_view kImdSignature = "IMD ";
// Larger files are refused unread: the largest disk the track model holds (84 cylinders, 2
// heads, 64 KiB of data per track) is about 11 MiB; this leaves room for a long comment.
inline constexpr uint64_t kMaxImdFileBytes = 16 * 1024 * 1024;

// Starts with the "IMD " signature (`start` may be just the first bytes of a file).
bool looks_like_imd(std::span<const uint8_t> start);

// Reads a whole IMD file; a Corrupt Error ("at byte 1234: …") when it is corrupt or truncated.
Expected<ImdFile> parse_imd(std::span<const uint8_t> bytes);

// Whether an IMD file can hold this track: one sector size of 128..8192 bytes, each ID's N
// equal to it, good ID CRCs, and a rate of 250, 300 or 500 kbit/s. Unsupported otherwise.
Status imd_can_hold(const Track &track);

// The file of `disk` with this header: the header, then every recorded track in cylinder, head
// order, uniform sectors compressed. Unsupported (naming the track) when a track cannot be held
// or the header is not an IMD header.
Expected<std::vector<uint8_t>> write_imd(std::string_view header, const TrackDisk &disk);

// A header for a new file: the signature line with this date ("dd/mm/yyyy hh:mm:ss"), CR LF,
// and the comment.
std::string imd_header(std::string_view date_time, std::string_view comment);
// "dd/mm/yyyy hh:mm:ss", local time now: the date a new header carries.
std::string imd_date_now();
// The comment part of a header: what follows the signature line.
std::string imd_comment(std::string_view header);

}  // namespace fdplug::floppy
