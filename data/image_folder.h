#pragma once
// An image-folder dataset: root/<class_name>/<image files>, one subfolder per
// class. Classes are sorted by name (byte order) and numbered from 0; files
// within a class are sorted by name, so the sample order is reproducible.
// Images are PNG, JPEG, BMP, PPM/PGM or TGA (extension, any case), decoded
// with stb_image; other files and hidden entries are ignored.
//
// Size: with image_size > 0 every image is resized to image_size x image_size
// (stb_image_resize: a filtered resize, Catmull-Rom when enlarging, Mitchell
// when shrinking; the aspect ratio is not kept). With image_size == 0 all
// images must share the first image's size, and one that differs is an error
// naming it. Channels: stb converts on decode (1 = grey, 3 = RGB; alpha is
// dropped).
//
// Result: Dataset with images u8 (N, channels, H, W) and labels i64 (N).
#include <string>

#include "data/dataset.h"

namespace strata::data {

struct ImageFolderOptions {
  int64_t channels = 3;    // 1 or 3
  int64_t image_size = 0;  // 0: keep (all images the same size); > 0: resize to a square
};

// `name` defaults to "image_folder:<root>".
Dataset read_image_folder(const std::string& root, const ImageFolderOptions& options = {}, std::string name = "");

// True for the file extensions the reader decodes.
bool is_image_file(const std::string& path);

}  // namespace strata::data
