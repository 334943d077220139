#include "data/idx.h"

#include <filesystem>

#include "data/file_io.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kDigitClasses = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

uint32_t read_word(MaybeGzipFile& file, std::string_view what) {
  uint8_t bytes[4];
  file.read_exact(bytes, 4, what);
  return big_endian(bytes);
}

// Reads `words` big-endian u32 header words, the first being the magic. The
// magic is checked before the rest is read, so a wrong kind of file (e.g.
// labels given for images) is named as such even when it is short.
std::vector<uint32_t> read_header(MaybeGzipFile& file, size_t words, uint32_t magic, std::string_view kind,
                                  std::string_view who) {
  const std::string what = fmt::format("IDX {} header", kind);
  std::vector<uint32_t> header{read_word(file, what)};
  if (header[0] != magic) {
    fail(who, "{}: bad magic number 0x{:08x}, expected 0x{:08x} (IDX {}){}", file.path(), header[0], magic, kind,
         header[0] == kIdxImagesMagic || header[0] == kIdxLabelsMagic ? ": image and label files swapped?" : "");
  }
  while (header.size() < words) header.push_back(read_word(file, what));
  return header;
}

std::string split_prefix(Split split) { return split == Split::train ? "train" : "t10k"; }

Dataset read_digits_like(const std::string& root, Split split, const std::string& who,
                         const std::vector<std::string>& classes) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(who, "{}: directory not found", root);
  const std::string images = find_idx_file(root, split_prefix(split) + "-images-idx3-ubyte", who);
  const std::string labels = find_idx_file(root, split_prefix(split) + "-labels-idx1-ubyte", who);
  return read_idx_dataset(images, labels, who + "/" + split_name(split), classes);
}

}  // namespace

Tensor read_idx_images(const std::string& path, std::string_view who) {
  MaybeGzipFile file(path, who);
  const std::vector<uint32_t> header = read_header(file, 4, kIdxImagesMagic, "images", who);
  const int64_t count = header[1], rows = header[2], cols = header[3];
  // A corrupt header could announce more bytes than int64 holds: refuse
  // anything beyond 1 TiB before allocating.
  if (rows == 0 || cols == 0 || uint64_t(count) > (uint64_t(1) << 40) / (uint64_t(rows) * uint64_t(cols))) {
    fail(who, "{}: implausible IDX images header: {} images of {}x{}", path, count, rows, cols);
  }
  Tensor images = empty({count, 1, rows, cols}, {DType::u8});
  file.read_exact(images.data<uint8_t>(), size_t(images.numel()),
                  fmt::format("pixel data ({} images of {}x{})", count, rows, cols));
  file.expect_end(fmt::format("{} images of {}x{}", count, rows, cols));
  return images;
}

Tensor read_idx_labels(const std::string& path, int64_t num_classes, std::string_view who) {
  MaybeGzipFile file(path, who);
  const std::vector<uint32_t> header = read_header(file, 2, kIdxLabelsMagic, "labels", who);
  const int64_t count = header[1];
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  file.read_exact(bytes.data(), bytes.size(), fmt::format("label data ({} labels)", count));
  file.expect_end(fmt::format("{} labels", count));
  Tensor labels = empty({count}, {DType::i64});
  int64_t* out = labels.data<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    if (bytes[size_t(i)] >= num_classes) {
      fail(who, "{}: label {} at index {} (byte offset {}) is out of range 0..{}", path, int(bytes[size_t(i)]), i,
           8 + i, num_classes - 1);
    }
    out[i] = bytes[size_t(i)];
  }
  return labels;
}

Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path, std::string name,
                         std::vector<std::string> class_names) {
  const std::string who = name;
  Dataset out;
  out.name = std::move(name);
  out.num_classes = int64_t(class_names.size());
  out.class_names = std::move(class_names);
  out.images = read_idx_images(images_path, who);
  out.labels = read_idx_labels(labels_path, out.num_classes, who);
  if (out.images.size(0) != out.labels.size(0)) {
    fail(who, "{} holds {} images but {} holds {} labels", images_path, out.images.size(0), labels_path,
         out.labels.size(0));
  }
  return out;
}

std::string find_idx_file(const std::string& root, const std::string& stem, std::string_view who) {
  const fs::path plain = fs::path(root) / stem, gz = fs::path(root) / (stem + ".gz");
  std::error_code ec;
  if (fs::is_regular_file(plain, ec)) return plain.string();
  if (fs::is_regular_file(gz, ec)) return gz.string();
  fail(who, "{}: file not found (nor {})", gz.string(), plain.string());
}

Dataset read_fashion_mnist(const std::string& root, Split split) {
  return read_digits_like(root, split, "fashion_mnist", kFashionClasses);
}

Dataset read_mnist(const std::string& root, Split split) {
  return read_digits_like(root, split, "mnist", kDigitClasses);
}

}  // namespace strata::data
