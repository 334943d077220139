#include "data/image_folder.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace strata::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWho = "image_folder";

struct Entry {
  std::string path;
  int64_t label;
};

bool hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

std::vector<std::string> sorted_class_dirs(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(kWho, "{}: directory not found", root);
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && !hidden(entry.path())) classes.push_back(entry.path().filename().string());
  }
  if (classes.empty()) fail(kWho, "{}: no class subfolders (expected root/<class_name>/<images>)", root);
  std::sort(classes.begin(), classes.end());
  return classes;
}

std::vector<Entry> list_images(const std::string& root, const std::vector<std::string>& classes) {
  std::vector<Entry> entries;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path dir = fs::path(root) / classes[label];
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file() && !hidden(entry.path()) && is_image_file(entry.path().string())) {
        files.push_back(entry.path().string());
      }
    }
    // An empty class would silently shift nothing but train on no examples of it.
    if (files.empty()) {
      fail(kWho, "{}: class folder holds no images (png, jpg, jpeg, bmp, ppm, pgm, tga)", dir.string());
    }
    std::sort(files.begin(), files.end());
    for (auto& f : files) entries.push_back({std::move(f), int64_t(label)});
  }
  return entries;
}

struct Decoded {
  std::unique_ptr<uint8_t, void (*)(void*)> pixels{nullptr, stbi_image_free};  // HWC
  int width = 0, height = 0;
};

Decoded decode(const std::string& path, int64_t channels) {
  Decoded d;
  int stored_channels = 0;
  d.pixels.reset(stbi_load(path.c_str(), &d.width, &d.height, &stored_channels, int(channels)));
  if (!d.pixels) fail(kWho, "{}: cannot decode image: {}", path, stbi_failure_reason());
  return d;
}

// Writes one decoded image into a (C, H, W) slot, resizing when asked.
void store(const Decoded& image, const std::string& path, int64_t channels, int64_t height, int64_t width,
           bool resize, uint8_t* out) {
  std::vector<uint8_t> resized;
  const uint8_t* hwc = image.pixels.get();
  if (resize && (image.height != height || image.width != width)) {
    resized.resize(size_t(height * width * channels));
    if (!stbir_resize_uint8(hwc, image.width, image.height, 0, resized.data(), int(width), int(height), 0,
                            int(channels))) {
      fail(kWho, "{}: resizing {}x{} to {}x{} failed", path, image.width, image.height, width, height);
    }
    hwc = resized.data();
  } else if (image.height != height || image.width != width) {
    fail(kWho, "{}: image is {}x{} (width x height) but the first image is {}x{}; set image_size to resize all",
         path, image.width, image.height, width, height);
  }
  // stb gives interleaved HWC; the dataset stores channel planes (CHW).
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t p = 0; p < height * width; ++p) out[c * height * width + p] = hwc[p * channels + c];
  }
}

}  // namespace

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tga"}) {
    if (ext == known) return true;
  }
  return false;
}

Dataset read_image_folder(const std::string& root, const ImageFolderOptions& options, std::string name) {
  if (options.channels != 1 && options.channels != 3) fail(kWho, "channels must be 1 or 3, got {}", options.channels);
  if (options.image_size < 0) fail(kWho, "image_size must be >= 0, got {}", options.image_size);
  const std::vector<std::string> classes = sorted_class_dirs(root);
  const std::vector<Entry> entries = list_images(root, classes);

  const int64_t n = int64_t(entries.size()), c = options.channels;
  const bool resize = options.image_size > 0;
  Decoded first = decode(entries[0].path, c);
  const int64_t height = resize ? options.image_size : first.height;
  const int64_t width = resize ? options.image_size : first.width;

  Dataset out;
  out.name = name.empty() ? fmt::format("image_folder:{}", root) : std::move(name);
  out.images = empty({n, c, height, width}, {DType::u8});
  out.labels = empty({n}, {DType::i64});
  out.num_classes = int64_t(classes.size());
  out.class_names = classes;
  uint8_t* pixels = out.images.data<uint8_t>();
  int64_t* labels = out.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const Decoded image = i == 0 ? std::move(first) : decode(entries[size_t(i)].path, c);
    store(image, entries[size_t(i)].path, c, height, width, resize, pixels + i * c * height * width);
    labels[i] = entries[size_t(i)].label;
  }
  return out;
}

}  // namespace strata::data
