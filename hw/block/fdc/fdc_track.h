// The track under a drive's head as the controller meets it: its IDs, marks and CRCs in
// physical order (read from any medium through the track model, media/track_medium.h), and
// where those sectors lie in time (a TrackLayout of their real sizes).
#pragma once

#include <cstdint>

#include "hw/block/fdc/fdc_commands.h"
#include "hw/block/fdc/fdc_timing.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

// The track at (cylinder, head) of `medium`; no sectors (unformatted) where there is no
// medium, no such track (cylinder < 0: the head is off the medium) or the medium fails.
TrackInfo read_track(DiskImage *medium, int cylinder, unsigned head);

// The layout of `track` on `medium`: its sectors' sizes at its rate and encoding, gap 3 as
// formatted (`format_gap3`, 0: the standard one). An unformatted track keeps the layout of
// the medium's format, which a search that finds nothing times against. A sector image's
// tracks give exactly track_layout(geometry).
TrackLayout layout_of(const DiskImage &medium, const TrackInfo &track, uint8_t format_gap3);

// Bytes a command with `search` moves per sector on `medium`: 128 << N (DTL bytes for N = 0).
// READ TRACK on a sector image moves each 512-byte field whole, whatever N, as it always has
// (docs/divergences.md Δ9).
uint16_t stream_bytes(Search search, const DiskImage &medium, uint8_t n, uint8_t dtl);

// The track a command works on, read once and kept until the command moves to another track
// or something rewrites it. Not device state: the medium gives it again after a load.
class TrackCache {
  public:
    const TrackInfo &get(DiskImage *medium, unsigned unit, int cylinder, unsigned head);
    void forget() { valid_ = false; }

  private:
    bool valid_ = false;
    const DiskImage *medium_ = nullptr;
    unsigned unit_ = 0, head_ = 0;
    int cylinder_ = 0;
    TrackInfo info_{};
};

}  // namespace fdplug::floppy
