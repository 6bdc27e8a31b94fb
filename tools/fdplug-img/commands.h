// The fdplug-img commands. Each prints its result on stdout and its error on stderr, and
// returns the process exit status: 0 done, 1 refused or failed.
#pragma once

#include <string>

namespace fdplug::img {

// Format, geometry, whether a raw image holds it all, and each track's sectors.
int info(const std::string &path, bool json);
// IN to OUT as "raw" or "imd". A conversion to raw that would lose something (deleted marks,
// CRC errors, sizes, IDs, FM tracks…) is refused, listing the losses, unless `lossy`.
int convert(const std::string &in, const std::string &out, const std::string &to, bool lossy);
// A blank (zero-filled) image of a table format ("1.44M", "720K", …) as "raw" or "imd"; an
// existing file is never overwritten.
int create(const std::string &path, const std::string &format, const std::string &size);
// Whether fdplug can use the file, and whether it is uniform.
int check(const std::string &path);

}  // namespace fdplug::img
