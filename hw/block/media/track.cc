#include "hw/block/media/track.h"

#include <algorithm>

namespace fdplug::floppy {

std::span<const uint8_t> Track::data(size_t index) const {
    return {data_.data() + offsets_[index], sector_size(sectors_[index].size_code)};
}

std::span<uint8_t> Track::data(size_t index) {
    return {data_.data() + offsets_[index], sector_size(sectors_[index].size_code)};
}

void Track::reserve(size_t sectors, size_t data_bytes) {
    sectors_.reserve(sectors_.size() + sectors);
    offsets_.reserve(offsets_.size() + sectors);
    data_.reserve(data_.size() + data_bytes);
}

bool Track::fits(const SectorInfo &info) const {
    return info.size_code <= kMaxSizeCode && sectors_.size() < kMaxSectorsPerTrack &&
           data_.size() + sector_size(info.size_code) <= kMaxTrackDataBytes;
}

bool Track::add(const SectorInfo &info, std::span<const uint8_t> data) {
    if (!fits(info) || data.size() != sector_size(info.size_code)) return false;
    sectors_.push_back(info);
    offsets_.push_back(uint32_t(data_.size()));
    data_.insert(data_.end(), data.begin(), data.end());
    return true;
}

bool Track::add_filled(const SectorInfo &info, uint8_t fill) {
    if (!fits(info)) return false;
    sectors_.push_back(info);
    offsets_.push_back(uint32_t(data_.size()));
    data_.resize(data_.size() + sector_size(info.size_code), fill);
    return true;
}

void Track::write(size_t index, DataMark mark, std::span<const uint8_t> data) {
    std::span<uint8_t> field = this->data(index);
    const size_t n = std::min(field.size(), data.size());
    std::copy_n(data.begin(), n, field.begin());
    std::fill(field.begin() + ptrdiff_t(n), field.end(), uint8_t{0});
    sectors_[index].mark = mark;
    sectors_[index].data_crc_ok = true;
}

size_t Track::heap_bytes() const {
    return sectors_.capacity() * sizeof(SectorInfo) + offsets_.capacity() * sizeof(uint32_t) +
           data_.capacity();
}

}  // namespace fdplug::floppy
