#include "hw/block/media/td0_open.h"

#include "hw/block/media/td0_image.h"

namespace fdplug::floppy {

Expected<OpenedMedium> open_td0_medium(const MediumRequest &request) {
    Td0Image::Options options;
    options.path = absolute_path(request.file);
    options.read_only = request.read_only;
    options.snapshot = request.snapshot;
    options.drive = request.drive;
    auto opened = Td0Image::open(options, request.faults);
    if (!opened) return opened.error();
    std::unique_ptr<Td0Image> &image = *opened;
    OpenedMedium out;
    out.format = "td0";
    out.wants = image->format().drive;
    out.file = options.path;
    out.read_only = image->read_only();
    out.virtual_size = image->geometry().size_bytes();
    out.image = std::move(image);
    return out;
}

}  // namespace fdplug::floppy
