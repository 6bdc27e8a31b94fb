#include "hw/block/state/fdc_state_format.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>

#include "hw/core/byte_writer.h"

namespace fdplug::floppy::state_format {

namespace {

// --- the declaration machinery --------------------------------------------------------------

enum class Kind : uint8_t { Bool, U8, U16, U32, U64, I64, Instant, Enum, Bytes, String, Struct };

struct Table;

struct Field {
    const char *name;
    Kind kind;
    uint32_t since;    // format version that introduced the field
    int64_t min, max;  // value range; Bytes: per byte; String: length
    TimeForm form;     // Instant
    // The field (element `index` of an array field); null for a dropped field.
    void *(*at)(void *object, size_t index);
    size_t count;        // elements (Bytes: bytes; Struct: records); 1 for a scalar
    const Table *sub;    // Struct
    uint32_t until = 0;  // dropped: the first version without it (0: still encoded)
    // Bytes that a later version made longer: before version `grown`, only the first
    // `old_count` were encoded (the rest keep their defaults).
    uint32_t grown = 0;
    size_t old_count = 0;
};

// Elements the field has in blobs of `version`.
constexpr size_t count_in(const Field &f, uint32_t version) {
    return f.grown && version < f.grown ? f.old_count : f.count;
}

// Whether blobs of `version` carry the field.
constexpr bool in_version(const Field &f, uint32_t version) {
    return f.since <= version && (f.until == 0 || version < f.until);
}

struct Table {
    std::span<const Field> fields;
};

template <typename T>
struct MemberOf;
template <typename C, typename V>
struct MemberOf<V C::*> {
    using Class = C;
    using Value = V;
};

template <typename T>
struct ArrayOf : std::false_type {};
template <typename E, size_t N>
struct ArrayOf<std::array<E, N>> : std::true_type {
    using Element = E;
    static constexpr size_t size = N;
};

template <auto M>
using ClassOf = typename MemberOf<decltype(M)>::Class;
template <auto M>
using ValueOf = typename MemberOf<decltype(M)>::Value;

template <auto M>
void *scalar_at(void *o, size_t) {
    return &(static_cast<ClassOf<M> *>(o)->*M);
}
template <auto M>
void *element_at(void *o, size_t i) {
    return &(static_cast<ClassOf<M> *>(o)->*M)[i];
}

template <typename V>
constexpr Kind kind_of() {
    if constexpr (std::is_same_v<V, bool>)
        return Kind::Bool;
    else if constexpr (std::is_enum_v<V>)
        return Kind::Enum;
    else if constexpr (std::is_same_v<V, uint8_t>)
        return Kind::U8;
    else if constexpr (std::is_same_v<V, uint16_t>)
        return Kind::U16;
    else if constexpr (std::is_same_v<V, uint32_t>)
        return Kind::U32;
    else if constexpr (std::is_same_v<V, uint64_t>)
        return Kind::U64;
    else if constexpr (std::is_same_v<V, int64_t>)
        return Kind::I64;
    else
        static_assert(sizeof(V) == 0, "no wire kind for this member type");
}

// Every enum of the state is one byte on the wire.
template <typename V>
constexpr void check_enum() {
    if constexpr (std::is_enum_v<V>) static_assert(sizeof(V) == 1, "enums are encoded as one byte");
}

// A number, flag or enum, valid in [min, max].
template <auto M>
constexpr Field num(const char *name, int64_t min, int64_t max, uint32_t since = 1) {
    check_enum<ValueOf<M>>();
    return {name,   kind_of<ValueOf<M>>(), since, min, max, TimeForm::Instant, &scalar_at<M>, 1,
            nullptr};
}
template <auto M>
constexpr Field flag(const char *name, uint32_t since = 1) {
    static_assert(std::is_same_v<ValueOf<M>, bool>);
    return {name, Kind::Bool, since, 0, 1, TimeForm::Instant, &scalar_at<M>, 1, nullptr};
}
// An instant, relative to the save, of the given form.
template <auto M>
constexpr Field instant(const char *name, TimeForm form, uint32_t since = 1) {
    static_assert(std::is_same_v<ValueOf<M>, int64_t>);
    return {name, Kind::Instant, since, -kMaxRelativeNs, kMaxRelativeNs,
            form, &scalar_at<M>, 1,     nullptr};
}
// A std::array<uint8_t, N>, each byte in [min, max].
template <auto M>
constexpr Field bytes(const char *name, int64_t min = 0, int64_t max = 255, uint32_t since = 1) {
    using A = ArrayOf<ValueOf<M>>;
    static_assert(A::value && std::is_same_v<typename A::Element, uint8_t>);
    return {name,           Kind::Bytes, since,  min, max, TimeForm::Instant,
            &element_at<M>, A::size,     nullptr};
}
// A std::array<uint8_t, ...> of which versions before `grown` held the first `old_count`
// bytes only (a buffer a later version made longer).
template <auto M>
constexpr Field grown_bytes(const char *name, size_t old_count, uint32_t grown) {
    Field f = bytes<M>(name);
    f.grown = grown;
    f.old_count = old_count;
    return f;
}
template <auto M>
constexpr Field text(const char *name, int64_t max_len, uint32_t since = 1) {
    static_assert(std::is_same_v<ValueOf<M>, std::string>);
    return {name, Kind::String, since, 0, max_len, TimeForm::Instant, &scalar_at<M>, 1, nullptr};
}
// A nested struct, or a std::array of them.
template <auto M>
constexpr Field record(const char *name, const Table &t, uint32_t since = 1) {
    return {name, Kind::Struct, since, 0, 0, TimeForm::Instant, &scalar_at<M>, 1, &t};
}
template <auto M>
constexpr Field records(const char *name, const Table &t, uint32_t since = 1) {
    static_assert(ArrayOf<ValueOf<M>>::value);
    return {name, Kind::Struct,      since,          0,
            0,    TimeForm::Instant, &element_at<M>, ArrayOf<ValueOf<M>>::size,
            &t};
}

// A scalar that versions since..until-1 carried and the state no longer has: a decoder of
// those versions reads it, checks its range as they did, and drops it; the encoder skips it.
constexpr Field dropped(const char *name, Kind kind, int64_t min, int64_t max, uint32_t since,
                        uint32_t until) {
    // The walk reads a dropped field as one number (throwing here fails the table's constant
    // initialisation, at compile time).
    if (kind == Kind::Bytes || kind == Kind::String || kind == Kind::Struct ||
        kind == Kind::Instant)
        throw "dropped() takes a number, flag or enum";
    return {name, kind, since, min, max, TimeForm::Instant, nullptr, 1, nullptr, until};
}

constexpr int64_t kAnyU8 = 255, kAnyU16 = 65535;
constexpr int64_t kMaxByteTime = int64_t(1) << 40;  // ns_num / ns_den bounds
constexpr int64_t kMaxProfileNs = 10'000'000'000;   // 10 s
constexpr int64_t kMaxStepNs = 40'000'000;          // 16 ms × 2 (250 kbit/s) < 40 ms
constexpr int64_t kMaxSourceLength = 4096;
constexpr int64_t kMaxMediaSize = int64_t(1) << 32;

// --- the declaration: one table per struct of fdc_state.h, in wire order --------------------
// Adding a field: append it to its table with `since` = the new kVersion. Removing one: turn
// its entry into dropped(..., until = the new kVersion) where it stands (docs/state.md §5).

constexpr Field kConfigFields[] = {
    num<&FdcConfig::mode>("mode", 0, 2),
    num<&FdcConfig::timing>("timing", 0, 1),
    num<&FdcConfig::implied_seek>("implied_seek", 0, 1),
};
constexpr Table kConfig{kConfigFields};

constexpr Field kLayoutFields[] = {
    num<&TrackLayout::gap2>("gap2", 0, 255),
    num<&TrackLayout::gap3>("gap3", 0, 255),
    num<&TrackLayout::sectors>("sectors", 0, 255),
    num<&TrackLayout::ns_num>("ns_num", 0, kMaxByteTime),
    num<&TrackLayout::ns_den>("ns_den", 1, kMaxByteTime),
    bytes<&TrackLayout::size_codes>("size_codes", 0, kMaxSizeCode, 3),
};
constexpr Table kLayout{kLayoutFields};

constexpr Field kStreamFields[] = {
    flag<&StreamState::to_host>("to_host"),
    flag<&StreamState::host_side>("host_side"),
    num<&StreamState::len>("len", 0, StreamState::kBufferSize),
    num<&StreamState::moved>("moved", 0, StreamState::kBufferSize),
    instant<&StreamState::t0>("t0", TimeForm::Instant),
    num<&StreamState::ns_num>("ns_num", 0, kMaxByteTime),
    num<&StreamState::ns_den>("ns_den", 1, kMaxByteTime),
    flag<&StreamState::burst>("burst"),
    grown_bytes<&StreamState::buf>("buf", kRawSectorBytes, 3),  // 512 bytes before version 3
};
constexpr Table kStream{kStreamFields};

constexpr Field kSeekFields[] = {
    flag<&SeekState::active>("active"),
    flag<&SeekState::recalibrate>("recalibrate"),
    flag<&SeekState::inward>("inward"),
    num<&SeekState::target>("target", 0, kAnyU8),
    num<&SeekState::steps>("steps", 0, 255),
    flag<&SeekState::fail>("fail"),
    instant<&SeekState::start>("start", TimeForm::Instant),
    num<&SeekState::step_ns>("step_ns", 0, kMaxStepNs),
    instant<&SeekState::done>("done", TimeForm::Deadline),
};
constexpr Table kSeek{kSeekFields};

constexpr Field kExecFields[] = {
    num<&ExecState::cmd>("cmd", 0, static_cast<int64_t>(Command::Invalid)),
    num<&ExecState::step>("step", 0, static_cast<int64_t>(ExecStep::Finish)),
    num<&ExecState::unit>("unit", 0, 3),
    num<&ExecState::hds>("hds", 0, 1),
    num<&ExecState::c>("c", 0, kAnyU8),
    num<&ExecState::h>("h", 0, kAnyU8),
    num<&ExecState::r>("r", 0, kAnyU8),
    num<&ExecState::n>("n", 0, kAnyU8),
    num<&ExecState::eot>("eot", 0, kAnyU8),
    num<&ExecState::gpl>("gpl", 0, kAnyU8),
    num<&ExecState::dtl>("dtl", 0, kAnyU8),
    flag<&ExecState::mt>("mt"),
    flag<&ExecState::mfm>("mfm"),
    flag<&ExecState::sk>("sk"),
    dropped("st0", Kind::U8, 0, kAnyU8, 1, 2),  // never read by the model
    num<&ExecState::st1>("st1", 0, kAnyU8),
    num<&ExecState::st2>("st2", 0, kAnyU8),
    flag<&ExecState::seeked>("seeked"),
    flag<&ExecState::tc>("tc"),
    num<&ExecState::count>("count", 0, 1024),
    num<&ExecState::limit>("limit", 0, 255),
    instant<&ExecState::due>("due", TimeForm::Deadline),
    instant<&ExecState::search_from>("search_from", TimeForm::Instant),
    instant<&ExecState::give_up>("give_up", TimeForm::Deadline),
    instant<&ExecState::sector_end>("sector_end", TimeForm::Deadline),
    flag<&ExecState::scan_hit>("scan_hit"),
    dropped("scan_fail", Kind::Bool, 0, 1, 1, 2),  // never read by the model
    num<&ExecState::fill>("fill", 0, kAnyU8),
    record<&ExecState::layout>("layout", kLayout),
    record<&ExecState::stream>("stream", kStream),
    num<&ExecState::index>("index", 0, kMaxSectorsPerTrack - 1, 3),
    bytes<&ExecState::format_ids>("format_ids", 0, 255, 3),
};
constexpr Table kExec{kExecFields};

constexpr Field kControllerFields[] = {
    num<&ControllerState::dor>("dor", 0, kAnyU8),
    num<&ControllerState::tdr>("tdr", 0, 3),
    num<&ControllerState::dsr>("dsr", 0, 0x7F),
    num<&ControllerState::ccr_noprec>("ccr_noprec", 0, 1),
    num<&ControllerState::srt>("srt", 0, 15),
    num<&ControllerState::hut>("hut", 0, 15),
    num<&ControllerState::hlt>("hlt", 0, 127),
    flag<&ControllerState::nd>("nd"),
    flag<&ControllerState::eis>("eis"),
    flag<&ControllerState::efifo>("efifo"),
    flag<&ControllerState::poll_off>("poll_off"),
    num<&ControllerState::fifothr>("fifothr", 0, 15),
    num<&ControllerState::pretrk>("pretrk", 0, kAnyU8),
    flag<&ControllerState::lock>("lock"),
    num<&ControllerState::perp_drives>("perp_drives", 0, 15),
    num<&ControllerState::perp_gap_wgate>("perp_gap_wgate", 0, 3),
    num<&ControllerState::last_eot>("last_eot", 0, kAnyU8),
    bytes<&ControllerState::pcn>("pcn"),
    num<&ControllerState::phase>("phase", 0, 2),
    bytes<&ControllerState::cmd>("cmd"),
    num<&ControllerState::cmd_len>("cmd_len", 0, kMaxCommandBytes),
    bytes<&ControllerState::res>("res"),
    num<&ControllerState::res_len>("res_len", 0, kMaxResultBytes),
    num<&ControllerState::res_pos>("res_pos", 0, kMaxResultBytes),
    flag<&ControllerState::result_int>("result_int"),
    flag<&ControllerState::status_int>("status_int"),
    bytes<&ControllerState::status_queue>("status_queue", 0, 3),
    bytes<&ControllerState::status_st0>("status_st0"),
    num<&ControllerState::status_count>("status_count", 0, 4),
    instant<&ControllerState::poll_due>("poll_due", TimeForm::Deadline),
    records<&ControllerState::seeks>("seeks", kSeek),
    record<&ControllerState::exec>("exec", kExec),
    flag<&ControllerState::exec_active>("exec_active"),
    flag<&ControllerState::irq_out>("irq_out"),
    flag<&ControllerState::drq_out>("drq_out"),
    instant<&ControllerState::armed>("armed", TimeForm::Deadline),
};
constexpr Table kController{kControllerFields};

constexpr Field kProfileFields[] = {
    num<&DriveProfile::settle_ns>("settle_ns", 0, kMaxProfileNs),
    num<&DriveProfile::spin_up_ns>("spin_up_ns", 0, kMaxProfileNs),
    num<&DriveProfile::no_motion_seek_ns>("no_motion_seek_ns", 0, kMaxProfileNs),
    num<&DriveProfile::index_pulse_ns>("index_pulse_ns", 0, kMaxProfileNs),
};
constexpr Table kProfile{kProfileFields};

constexpr Field kMechanicsFields[] = {
    flag<&DriveMechanics::changed>("changed"),
    num<&DriveMechanics::cylinder>("cylinder", 0, kAnyU8),
    flag<&DriveMechanics::motor_on>("motor_on"),
    instant<&DriveMechanics::motor_on_since>("motor_on_since", TimeForm::Instant),
    instant<&DriveMechanics::last_step>("last_step", TimeForm::InstantOrLongAgo),
    instant<&DriveMechanics::head_unload_at>("head_unload_at", TimeForm::Any),
    num<&DriveMechanics::last_read_id>("last_read_id", 0, kAnyU8),
};
constexpr Table kMechanics{kMechanicsFields};

constexpr Field kGeometryFields[] = {
    num<&Geometry::cylinders>("cylinders", 0, kAnyU8),
    num<&Geometry::heads>("heads", 0, 2),
    num<&Geometry::sectors>("sectors", 0, kAnyU8),
    num<&Geometry::rate>("rate", 0, 3),
    num<&Geometry::rpm>("rpm", 0, kAnyU16),
    num<&Geometry::native_drive>("native_drive", 0, static_cast<int64_t>(DriveType::k720)),
    flag<&Geometry::perpendicular>("perpendicular"),
};
constexpr Table kGeometry{kGeometryFields};

constexpr Field kMediaFields[] = {
    flag<&MediaIdentity::present>("present"),
    text<&MediaIdentity::source>("source", kMaxSourceLength),
    record<&MediaIdentity::geometry>("geometry", kGeometry),
    flag<&MediaIdentity::read_only>("read_only"),
    num<&MediaIdentity::size>("size", 0, kMaxMediaSize),
    num<&MediaIdentity::fingerprint>("fingerprint", 0, -1),  // any 64-bit value
};
constexpr Table kMedia{kMediaFields};

constexpr Field kDriveFields[] = {
    num<&DriveState::type>("type", 0, static_cast<int64_t>(DriveType::k720)),
    record<&DriveState::profile>("profile", kProfile),
    record<&DriveState::mech>("mech", kMechanics),
    record<&DriveState::media>("media", kMedia),
};
constexpr Table kDrive{kDriveFields};

constexpr Field kStateFields[] = {
    record<&FdcState::config>("config", kConfig),
    record<&FdcState::ctrl>("ctrl", kController),
    records<&FdcState::drives>("drives", kDrive),
};
constexpr Table kState{kStateFields};

// --- the walk ---------------------------------------------------------------------------------

size_t scalar_width(Kind k) {
    switch (k) {
        case Kind::Bool:
        case Kind::U8:
        case Kind::Enum:
            return 1;
        case Kind::U16:
            return 2;
        case Kind::U32:
            return 4;
        case Kind::U64:
        case Kind::I64:
        case Kind::Instant:
            return 8;
        default:
            return 0;
    }
}

// Reads the field's value as a uint64 (its storage width decides).
uint64_t load_raw(const void *p, size_t width) {
    uint64_t v = 0;
    if (width == 1)
        v = *static_cast<const uint8_t *>(p);
    else if (width == 2)
        v = *static_cast<const uint16_t *>(p);
    else if (width == 4)
        v = *static_cast<const uint32_t *>(p);
    else
        std::memcpy(&v, p, 8);
    return v;
}
void store_raw(void *p, size_t width, uint64_t v) {
    if (width == 1)
        *static_cast<uint8_t *>(p) = uint8_t(v);
    else if (width == 2)
        *static_cast<uint16_t *>(p) = uint16_t(v);
    else if (width == 4)
        *static_cast<uint32_t *>(p) = uint32_t(v);
    else
        std::memcpy(p, &v, 8);
}

bool in_range(const Field &f, uint64_t raw) {
    if (f.kind == Kind::U64) return f.max < 0 || raw <= uint64_t(f.max);  // max < 0: any value
    if (f.kind == Kind::I64) {
        const int64_t v = int64_t(raw);
        return v >= f.min && v <= f.max;
    }
    if (f.kind == Kind::Instant) return relative_instant_ok(int64_t(raw), f.form);
    return int64_t(raw) >= f.min && int64_t(raw) <= f.max;  // ≤ 32-bit unsigned
}

class Writer : public ByteWriter {
  public:
    void table(const Table &t, const void *obj) {
        for (const Field &f : t.fields) {
            if (!in_version(f, kVersion)) continue;
            void *o = const_cast<void *>(obj);  // at() does not modify
            switch (f.kind) {
                case Kind::Struct:
                    for (size_t i = 0; i < f.count; ++i) table(*f.sub, f.at(o, i));
                    break;
                case Kind::Bytes:
                    for (size_t i = 0; i < count_in(f, kVersion); ++i) bytes(f.at(o, i), 1);
                    break;
                case Kind::String: {
                    const std::string &s = *static_cast<std::string *>(f.at(o, 0));
                    const size_t n =
                        std::min<size_t>(s.size(), size_t(f.max));  // longer: cut (informational)
                    u(n, 2);
                    bytes(s.data(), n);
                    break;
                }
                default: {
                    const size_t w = scalar_width(f.kind);
                    u(load_raw(f.at(o, 0), w), w);
                    break;
                }
            }
        }
    }
};

class Reader {
  public:
    Reader(std::span<const uint8_t> in, uint32_t version, std::string *error)
        : in_(in), version_(version), error_(error) {}

    bool table(const Table &t, void *obj, const std::string &prefix) {
        for (const Field &f : t.fields) {
            if (!in_version(f, version_)) continue;  // not in this version: keeps its default
            const std::string path = prefix + f.name;
            switch (f.kind) {
                case Kind::Struct:
                    for (size_t i = 0; i < f.count; ++i) {
                        const std::string p =
                            f.count > 1 ? path + "[" + std::to_string(i) + "]." : path + ".";
                        if (!table(*f.sub, f.at(obj, i), p)) return false;
                    }
                    break;
                case Kind::Bytes:
                    if (!need(count_in(f, version_), path)) return false;
                    for (size_t i = 0; i < count_in(f, version_); ++i) {
                        const uint8_t b = in_[pos_++];
                        if (b < f.min || b > f.max)
                            return fail(path + "[" + std::to_string(i) + "]",
                                        std::to_string(b) + " is outside " + std::to_string(f.min) +
                                            ".." + std::to_string(f.max));
                        *static_cast<uint8_t *>(f.at(obj, i)) = b;
                    }
                    break;
                case Kind::String: {
                    if (!need(2, path)) return false;
                    const size_t n = size_t(get(2));
                    if (int64_t(n) > f.max)
                        return fail(path, "length " + std::to_string(n) + " is more than " +
                                              std::to_string(f.max));
                    if (!need(n, path)) return false;
                    static_cast<std::string *>(f.at(obj, 0))
                        ->assign(reinterpret_cast<const char *>(in_.data() + pos_), n);
                    pos_ += n;
                    break;
                }
                default: {
                    const size_t w = scalar_width(f.kind);
                    if (!need(w, path)) return false;
                    const uint64_t raw = get(w);
                    if (!in_range(f, raw)) return fail(path, describe_bad(f, raw));
                    if (f.at) store_raw(f.at(obj, 0), w, raw);  // a dropped field: checked only
                    break;
                }
            }
        }
        return true;
    }
    size_t left() const { return in_.size() - pos_; }

  private:
    uint64_t get(size_t width) {
        uint64_t v = 0;
        for (size_t i = 0; i < width; ++i) v |= uint64_t(in_[pos_ + i]) << (8 * i);
        pos_ += width;
        return v;
    }
    bool need(size_t n, const std::string &path) {
        if (left() >= n) return true;
        return fail(path, "the payload ends before this field");
    }
    bool fail(const std::string &path, const std::string &what) {
        if (error_) *error_ = "field " + path + ": " + what;
        return false;
    }
    static std::string describe_bad(const Field &f, uint64_t raw) {
        if (f.kind == Kind::Instant)
            return std::to_string(int64_t(raw)) + " is not a valid relative " +
                   (f.form == TimeForm::Deadline  ? "deadline"
                    : f.form == TimeForm::Instant ? "instant"
                                                  : "instant or sentinel");
        if (f.kind == Kind::Bool) return std::to_string(raw) + " is not a boolean (0 or 1)";
        const std::string v =
            f.kind == Kind::I64 ? std::to_string(int64_t(raw)) : std::to_string(raw);
        return v + " is outside " + std::to_string(f.min) + ".." + std::to_string(f.max);
    }

    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    uint32_t version_;
    std::string *error_;
};

uint32_t get_u32(std::span<const uint8_t> b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 |
           uint32_t(b[at + 3]) << 24;
}

std::string hex32(uint32_t v) {
    char buf[16];
    static const char digits[] = "0123456789abcdef";
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; ++i) buf[2 + i] = digits[(v >> (28 - 4 * i)) & 15];
    return std::string(buf, 10);
}

const char *kind_name(Kind k) {
    switch (k) {
        case Kind::Bool:
            return "bool";
        case Kind::U8:
            return "u8";
        case Kind::U16:
            return "u16";
        case Kind::U32:
            return "u32";
        case Kind::U64:
            return "u64";
        case Kind::I64:
            return "i64";
        case Kind::Instant:
            return "instant";
        case Kind::Enum:
            return "enum";
        case Kind::Bytes:
            return "bytes";
        case Kind::String:
            return "string";
        case Kind::Struct:
            return "struct";
    }
    return "?";
}

void describe_table(const Table &t, uint32_t version, const std::string &prefix,
                    std::vector<FieldDescription> &out) {
    for (const Field &f : t.fields) {
        if (!in_version(f, version)) continue;
        const std::string path = prefix + f.name;
        if (f.kind == Kind::Struct) {
            for (size_t i = 0; i < f.count; ++i)
                describe_table(*f.sub, version,
                               f.count > 1 ? path + "[" + std::to_string(i) + "]." : path + ".",
                               out);
            continue;
        }
        FieldDescription d;
        d.path = path;
        d.kind = kind_name(f.kind);
        d.width = f.kind == Kind::Bytes    ? count_in(f, version)
                  : f.kind == Kind::String ? 2 + size_t(f.max)
                                           : scalar_width(f.kind);
        d.since = f.since;
        d.until = f.until;
        d.min = f.min;
        d.max = f.max;
        d.form = f.form;
        out.push_back(d);
    }
}

// One table row per declared field, dropped ones too, arrays of records shown once with "[]".
void markdown_rows(const Table &t, const std::string &prefix, std::string &out) {
    for (const Field &f : t.fields) {
        const std::string path = prefix + f.name;
        if (f.kind == Kind::Struct) {
            markdown_rows(*f.sub,
                          f.count > 1 ? path + "[" + std::to_string(f.count) + "]." : path + ".",
                          out);
            continue;
        }
        std::string kind = kind_name(f.kind), range;
        size_t width = scalar_width(f.kind);
        switch (f.kind) {
            case Kind::Bytes:
                kind += "[" + std::to_string(f.count) + "]";
                if (f.grown)
                    kind += " (" + std::to_string(f.old_count) + " before version " +
                            std::to_string(f.grown) + ")";
                width = f.count;
                range = f.min == 0 && f.max == 255
                            ? "any"
                            : "each " + std::to_string(f.min) + "–" + std::to_string(f.max);
                break;
            case Kind::String:
                width = 0;
                range = "length ≤ " + std::to_string(f.max);
                break;
            case Kind::Bool:
                range = "0, 1";
                break;
            case Kind::Instant:
                range = f.form == TimeForm::Instant            ? "finite"
                        : f.form == TimeForm::Deadline         ? "finite or never"
                        : f.form == TimeForm::InstantOrLongAgo ? "finite or long-ago"
                                                               : "finite, never or long-ago";
                break;
            case Kind::U64:
                range = f.max < 0 ? "any" : "0–" + std::to_string(f.max);
                break;
            default:
                range = std::to_string(f.min) + "–" + std::to_string(f.max);
                break;
        }
        out += "| `" + path + "` | " + kind + " | " +
               (width ? std::to_string(width) : std::string("2 + n")) + " | " + range + " | " +
               std::to_string(f.since) + " | " + (f.until ? std::to_string(f.until) : "—") + " |\n";
    }
}

// Versions 1 and 2 knew sector images only: every sector 512 bytes, sector R at place R - 1.
void derive_since_v3(ExecState &e) {
    std::fill_n(e.layout.size_codes.begin(),
                std::min<size_t>(e.layout.sectors, kMaxSectorsPerTrack), kRawSectorN);
    const Search search = command_info(e.cmd).search;
    const bool by_r = search == Search::Id || search == Search::Track;
    if (e.step == ExecStep::Transfer && by_r && e.r >= 1) e.index = uint8_t(e.r - 1);
}

}  // namespace

std::vector<uint8_t> encode(const FdcState &s) {
    Writer w;
    w.bytes(kMagic, sizeof kMagic);
    w.u(kVersion, 4);
    w.u(0, 4);  // payload length, below
    w.table(kState, &s);
    const size_t payload = w.out.size() - kHeaderSize;
    for (size_t i = 0; i < 4; ++i) w.out[12 + i] = uint8_t(payload >> (8 * i));
    w.u(crc32(w.out), 4);
    return std::move(w.out);
}

bool decode(std::span<const uint8_t> blob, FdcState *out, std::string *error) {
    auto fail = [error](const std::string &what) {
        if (error) *error = what;
        return false;
    };
    if (blob.size() < kHeaderSize + kTrailerSize)
        return fail("the fdc82077 state is " + std::to_string(blob.size()) +
                    " bytes, shorter than its " + std::to_string(kHeaderSize + kTrailerSize) +
                    "-byte header and checksum");
    if (std::memcmp(blob.data(), kMagic, sizeof kMagic) != 0)
        return fail("not an fdc82077 state (its first 8 bytes are not \"FDC82077\")");
    const uint32_t version = get_u32(blob, 8);
    if (version < kMinVersion || version > kVersion)
        return fail("fdc82077 state version " + std::to_string(version) +
                    " is not one this build reads (" + std::to_string(kMinVersion) + ".." +
                    std::to_string(kVersion) + ")" +
                    (version > kVersion ? ": it was saved by a newer fdplug" : ""));
    const uint32_t payload = get_u32(blob, 12);
    if (uint64_t(payload) + kHeaderSize + kTrailerSize != blob.size())
        return fail("the fdc82077 state header announces " + std::to_string(payload) +
                    " payload bytes, the state holds " +
                    std::to_string(blob.size() - kHeaderSize - kTrailerSize) +
                    ": truncated or padded");
    const uint32_t stored = get_u32(blob, blob.size() - kTrailerSize);
    const uint32_t computed = crc32(blob.first(blob.size() - kTrailerSize));
    if (stored != computed)
        return fail("the fdc82077 state's checksum is " + hex32(stored) + ", its bytes give " +
                    hex32(computed) + ": the state is corrupt");
    FdcState st;  // fields absent from older versions keep these defaults
    Reader r(blob.subspan(kHeaderSize, payload), version, error);
    if (!r.table(kState, &st, "")) return false;
    if (r.left() != 0)
        return fail("the fdc82077 state has " + std::to_string(r.left()) +
                    " bytes after its last field (version " + std::to_string(version) + ")");
    if (version < 3) derive_since_v3(st.ctrl.exec);
    *out = std::move(st);
    return true;
}

std::vector<FieldDescription> describe(uint32_t version) {
    std::vector<FieldDescription> out;
    describe_table(kState, version, "", out);
    return out;
}

std::string markdown_table() {
    std::string out =
        "| field | kind | bytes | valid | since | dropped in |\n|---|---|---|---|---|---|\n";
    markdown_rows(kState, "", out);
    return out;
}

}  // namespace fdplug::floppy::state_format
