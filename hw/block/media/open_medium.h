// Opening the medium for a drive from a request — an image file (raw, IMD or TD0; transient writes,
// snapshot=on, keep the guest's writes in an overlay in memory, transient_image.h; QEMU's
// null-co:// gives a blank medium in memory) or a host floppy
// drive — with one result for every backend (the medium, or an Error whose kind says what went
// wrong), so that whoever changes media (the -drive definitions at start-up, QEMU's block commands,
// the floppy-* commands) opens them the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_geometry.h"
#include "hw/block/media/host_floppy.h"
#include "hw/block/media/media_faults.h"
#include "hw/block/media/raw_image.h"

namespace fdplug::floppy {

// What a drive holds; the values are Virtual PC's VMFloppyDriveAttachmentType.
enum class Attachment : uint8_t { None = 0, Image = 1, HostDrive = 2 };
// "none", "image", "host-drive" (the QMP spelling).
const char *attachment_name(Attachment attachment);

struct MediumRequest {
    std::string file;    // "" = no medium; relative paths are taken from the working dir
    std::string format;  // "raw", "imd", "td0", or "" to tell by the file's content
    bool read_only = false;
    // Transient writes (snapshot=on, "transient": true): the file is opened read-only and the
    // guest's writes and FORMATs go to an overlay in memory (transient_image.h). A read-only
    // request stays read-only.
    bool transient = false;
    std::string size;                   // null-co:// only: "1440k", "1474560", …
    DriveType drive = DriveType::Auto;  // the drive it goes into (Auto: the medium decides)
    MediaFaultsPtr faults;              // test-only fault injection, handed to the backend
};

// A medium ready to go into a drive, and what the commands report about it.
struct OpenedMedium {
    std::unique_ptr<DiskImage> image;
    Attachment kind = Attachment::Image;
    DriveType wants = DriveType::Auto;  // the drive type an `auto` drive becomes
    std::string file;                   // the absolute image path or the device node
    std::string format = "raw";         // "raw" (images, host drives, null-co), "imd" or "td0"
    bool read_only = false;
    bool transient = false;  // image is a TransientImage
    uint64_t virtual_size = 0;
};

// An image format open_medium() reads ("" = by content, "raw", "imd", "td0"), or Unsupported with a
// message naming the formats that are.
Status check_image_format(const std::string &format);

// Image files: raw sector images, ImageDisk files (format=imd, or no format and a file that
// starts with the IMD signature) or Teledisk files (format=td0, or no format and a file that
// starts with a TD0 header whose CRC matches; read-only or transient only), failing as
// RawImage::open, ImdImage::open or Td0Image::open does. An
// unsupported format fails before any file is touched, as Unsupported: the request is at fault.
Expected<OpenedMedium> open_medium(const MediumRequest &request);
// A host floppy drive (host_floppy.h), read-write when the device allows it; failing as
// HostFloppy::open does.
Expected<OpenedMedium> open_host_drive(const std::string &device, DriveType drive,
                                       MediaFaultsPtr faults);

// QEMU takes image paths relative to its working directory; the backends want them absolute.
std::string absolute_path(const std::string &file);

}  // namespace fdplug::floppy
