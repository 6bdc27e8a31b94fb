#include "hw/block/media/open_medium.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/imd_image.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/td0_image.h"
#include "hw/block/media/transient_image.h"

namespace fdplug::floppy {

namespace {

constexpr const char *kNullCo = "null-co://";

// "1440k", "1474560", "2.88M" is not accepted: integers with an optional k/M suffix.
std::optional<uint64_t> parse_size(const std::string &text) {
    if (text.empty()) return std::nullopt;
    size_t used = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(text, &used, 0);
    } catch (...) {
        return std::nullopt;
    }
    const std::string suffix = text.substr(used);
    if (suffix.empty() || suffix == "b" || suffix == "B") return v;
    if (suffix == "k" || suffix == "K") return v * 1024;
    if (suffix == "M" || suffix == "m") return v * 1024 * 1024;
    return std::nullopt;
}

// QEMU's null block driver (fdc-test's blank drive): a zero-filled medium of size=.
Expected<OpenedMedium> open_null_co(const MediumRequest &request) {
    const std::string refused =
        std::string(kNullCo) + " medium of size=" + request.size + " cannot be used: ";
    const auto size = parse_size(request.size.empty() ? "1440k" : request.size);
    if (!size)
        return Error(ErrorKind::UnknownSize, refused + "expected a byte count such as 1440k");
    auto choice = choose_format(*size, request.drive, {});
    if (!choice) return choice.error().prefixed(refused);
    OpenedMedium out;
    out.image = std::make_unique<MemoryImage>(choice->geometry, request.read_only);
    out.wants = choice->drive;
    out.file = kNullCo;
    out.read_only = request.read_only;
    out.virtual_size = *size;
    return out;
}

// What query-block reports as an image's size: a raw file's own (a short file is smaller than its
// geometry), a track image's geometry.
uint64_t virtual_size(const RawImage &image) {
    return image.file_size();
}
uint64_t virtual_size(const DiskImage &image) {
    return image.geometry().size_bytes();
}

// An image file opened by its backend with the request's options, reported as `format`.
template <class Image>
Expected<OpenedMedium> open_image(const MediumRequest &request, const char *format) {
    typename Image::Options options;
    options.path = absolute_path(request.file);
    options.read_only = request.read_only;
    options.drive = request.drive;
    auto opened = Image::open(options, request.faults);
    if (!opened) return opened.error();
    std::unique_ptr<Image> &image = *opened;
    OpenedMedium out;
    out.format = format;
    out.wants = image->format().drive;
    out.file = options.path;
    out.read_only = image->read_only();
    out.virtual_size = virtual_size(*image);
    out.image = std::move(image);
    return out;
}

// The image formats, in the order a file's content is tested for them: raw has no signature and
// takes any file the others do not recognise.
struct ImageFormat {
    const char *name;
    bool (*recognises)(const std::string &path);  // nullptr: any file
    Expected<OpenedMedium> (*open)(const MediumRequest &request, const char *format);
};

constexpr ImageFormat kImageFormats[] = {
    {"imd", is_imd_file, open_image<ImdImage>},
    {"td0", is_td0_file, open_image<Td0Image>},
    {"raw", nullptr, open_image<RawImage>},
};

}  // namespace

const char *attachment_name(Attachment attachment) {
    switch (attachment) {
        case Attachment::Image:
            return "image";
        case Attachment::HostDrive:
            return "host-drive";
        case Attachment::None:
            break;
    }
    return "none";
}

std::string absolute_path(const std::string &file) {
    if (file.empty() || file[0] == '/') return file;
    std::error_code ec;
    auto abs = std::filesystem::absolute(file, ec);
    return ec ? file : abs.lexically_normal().string();
}

Status check_image_format(const std::string &format) {
    if (format.empty() ||
        std::ranges::any_of(kImageFormats, [&](const ImageFormat &f) { return format == f.name; }))
        return {};
    return Error(ErrorKind::Unsupported,
                 "format=" + format +
                     " is not supported: floppy drives take raw sector images (format=raw), "
                     "ImageDisk files (format=imd) and Teledisk files (format=td0, read-only)");
}

namespace {

// The file as its format's backend opens it, without transient writes: the format asked for,
// else the first whose signature the file has.
Expected<OpenedMedium> open_file(const MediumRequest &request) {
    const std::string path = absolute_path(request.file);
    for (const ImageFormat &f : kImageFormats)
        if (request.format.empty() ? !f.recognises || f.recognises(path) : request.format == f.name)
            return f.open(request, f.name);
    return check_image_format(request.format).error();  // a format no entry names
}

// Transient writes: the file read-only under an overlay. A commit opens it again, in the format
// it was found to have, so that it is read the same way.
Expected<OpenedMedium> open_transient(MediumRequest request) {
    request.transient = false;
    request.read_only = true;
    Expected<OpenedMedium> out = open_file(request);
    if (!out) return out;
    request.format = out->format;
    auto reopen = [request](bool writable) -> Expected<std::unique_ptr<DiskImage>> {
        MediumRequest again = request;
        again.read_only = !writable;
        Expected<OpenedMedium> opened = open_file(again);
        if (!opened) return opened.error();
        return std::move(opened->image);
    };
    out->image = std::make_unique<TransientImage>(std::move(out->image), std::move(reopen));
    out->read_only = false;
    out->transient = true;
    return out;
}

}  // namespace

Expected<OpenedMedium> open_medium(const MediumRequest &request) {
    if (Status format = check_image_format(request.format); !format) return format.error();
    if (request.file.rfind(kNullCo, 0) == 0) return open_null_co(request);
    if (request.transient && !request.read_only) return open_transient(request);
    return open_file(request);
}

Expected<OpenedMedium> open_host_drive(const std::string &device, DriveType drive,
                                       MediaFaultsPtr faults) {
    auto opened = HostFloppy::open({.device = device, .drive = drive}, std::move(faults));
    if (!opened) return opened.error();
    std::unique_ptr<HostFloppy> &host = *opened;
    OpenedMedium out;
    out.kind = Attachment::HostDrive;
    out.wants = host->format().drive;
    out.file = device;
    out.read_only = host->read_only();
    out.virtual_size = host->device_size();
    out.image = std::move(host);
    return out;
}

}  // namespace fdplug::floppy
