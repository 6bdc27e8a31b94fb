// The versioned wire format of the 82077AA model's state (FdcState, fdc_state.h), kept apart
// from the model: the model knows structs, this file knows bytes. Like QEMU's vmstate it is a
// declaration — one table per struct, each field with its name, where it lives (a member
// pointer), its encoded width, the format version that introduced it and the range a valid
// value lies in — walked by one encoder and one decoder. docs/state.md describes the layout and
// the versioning rules.
//
//   blob    := magic "FDC82077" | u32 version | u32 payload length | payload | u32 CRC-32
//   payload := every field of the tables, in table order, little endian, fixed width
//              (strings: u16 length + bytes); fields newer than `version`, or dropped at or
//              before it, are absent
//
// decode() refuses a blob that is short, foreign, of a version this build does not read, of a
// wrong length or checksum, or with any field out of its range, naming the field; it never
// reads past the blob. The semantic checks (indexes against lengths, the stream against its
// track, the state against this controller's drives and media) are Fdc82077::load_state()'s,
// which runs before anything is applied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hw/block/fdc/fdc_state.h"
#include "hw/core/crc32.h"

namespace fdplug::floppy::state_format {

inline constexpr char kMagic[8] = {'F', 'D', 'C', '8', '2', '0', '7', '7'};
// Version 2 dropped ExecState's st0 and scan_fail, which the model never read; a version 1
// blob's are range-checked and dropped. Version 3 grew the stream buffer to 16 KiB (any N) and
// added the layout's sector sizes and the current sector's place on its track, which older
// blobs get from their sector image (512-byte sectors, R at place R - 1).
inline constexpr uint32_t kVersion = 3;     // what this build writes
inline constexpr uint32_t kMinVersion = 1;  // the oldest it reads
inline constexpr size_t kHeaderSize = 16, kTrailerSize = 4;

// The blob of `s`, at kVersion.
std::vector<uint8_t> encode(const FdcState &s);

// Parses and range-checks a blob into *out (left untouched on failure). false + *error, which
// names the field or the part of the header that is wrong.
bool decode(std::span<const uint8_t> blob, FdcState *out, std::string *error);

// The blob's checksum (hw/core/crc32.h), named here for the tests and fuzzers that forge blobs.
using fdplug::crc32;

// One encoded field, arrays expanded ("ctrl.seeks[2].done"), for docs and tests.
struct FieldDescription {
    std::string path;
    std::string
        kind;  // "bool", "u8", "u16", "u32", "u64", "i64", "instant", "enum", "bytes", "string"
    size_t width = 0;  // encoded bytes (strings: the maximum, with the u16 length)
    uint32_t since = 1;
    uint32_t until = 0;                 // dropped: the first version without it (0: never)
    int64_t min = 0, max = 0;           // value range (bytes: per byte; string: length)
    TimeForm form = TimeForm::Instant;  // instants only
};
// The fields a blob of `version` holds, in their order.
std::vector<FieldDescription> describe(uint32_t version = kVersion);

// The field table as the Markdown table docs/state.md §3 carries, dropped fields included (a
// unit test compares).
std::string markdown_table();

}  // namespace fdplug::floppy::state_format
