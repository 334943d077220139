#include "data/cifar.h"

#include <cstring>
#include <filesystem>

#include "data/file_io.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kSide = 32, kChannels = 3, kPixels = kChannels * kSide * kSide;  // 3072

const std::vector<std::string> kCifar10Classes = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                  "dog",      "frog",       "horse", "ship", "truck"};

const std::vector<std::string> kCifar100Fine = {
    "apple",        "aquarium_fish", "baby",       "bear",       "beaver",     "bed",         "bee",
    "beetle",       "bicycle",       "bottle",     "bowl",       "boy",        "bridge",      "bus",
    "butterfly",    "camel",         "can",        "castle",     "caterpillar", "cattle",     "chair",
    "chimpanzee",   "clock",         "cloud",      "cockroach",  "couch",      "crab",        "crocodile",
    "cup",          "dinosaur",      "dolphin",    "elephant",   "flatfish",   "forest",      "fox",
    "girl",         "hamster",       "house",      "kangaroo",   "keyboard",   "lamp",        "lawn_mower",
    "leopard",      "lion",          "lizard",     "lobster",    "man",        "maple_tree",  "motorcycle",
    "mountain",     "mouse",         "mushroom",   "oak_tree",   "orange",     "orchid",      "otter",
    "palm_tree",    "pear",          "pickup_truck", "pine_tree", "plain",     "plate",       "poppy",
    "porcupine",    "possum",        "rabbit",     "raccoon",    "ray",        "road",        "rocket",
    "rose",         "sea",           "seal",       "shark",      "shrew",      "skunk",       "skyscraper",
    "snail",        "snake",         "spider",     "squirrel",   "streetcar",  "sunflower",   "sweet_pepper",
    "table",        "tank",          "telephone",  "television", "tiger",      "tractor",     "train",
    "trout",        "tulip",         "turtle",     "wardrobe",   "whale",      "willow_tree", "wolf",
    "woman",        "worm"};

const std::vector<std::string> kCifar100Coarse = {
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees", "vehicles_1",
    "vehicles_2"};

// How one CIFAR variant lays out its records.
struct RecordFormat {
  std::string who;         // "cifar10" / "cifar100", the prefix of every error
  std::string title;       // "CIFAR-10" / "CIFAR-100"
  int64_t label_bytes;     // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  int64_t label_index;     // which label byte to keep
  int64_t num_classes;     // range check for the kept label
  int64_t other_classes;   // range check for the other label byte (CIFAR-100), else 0
  int64_t real_records;    // records in the real files, for the message
  int64_t record_bytes() const { return label_bytes + kPixels; }
};

void check_root(const std::string& root, const RecordFormat& format, const std::vector<std::string>& files) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    fail(format.who, "{}: directory not found (expected the {} binary version, with {})", root, format.title,
         fmt::join(files, ", "));
  }
}

// Checks the size and returns the number of records.
int64_t count_records(const std::string& path, size_t size, const RecordFormat& format) {
  const int64_t record = format.record_bytes();
  if (size == 0 || size % size_t(record) != 0) {
    fail(format.who,
         "{}: size {} bytes is not a whole number of {}-byte records ({} records and {} bytes left over; the real "
         "files hold {} records, {} bytes): truncated or not a {} binary file",
         path, size, record, size / size_t(record), size % size_t(record), format.real_records,
         format.real_records * record, format.title);
  }
  return int64_t(size / size_t(record));
}

// Checks one record's label bytes; returns the label to keep.
int64_t record_label(const uint8_t* record, int64_t index, const std::string& path, const RecordFormat& format) {
  for (int64_t b = 0; b < format.label_bytes; ++b) {
    const int64_t limit = b == format.label_index ? format.num_classes : format.other_classes;
    if (record[b] >= limit) {
      fail(format.who, "{}: record {} (byte offset {}) has label {}, expected 0..{}: not a {} binary file?", path,
           index, index * format.record_bytes() + b, int(record[b]), limit - 1, format.title);
    }
  }
  return record[format.label_index];
}

// The size of a file that must exist, with the error naming it.
size_t file_size_of(const std::string& path, const RecordFormat& format, const std::vector<std::string>& files) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fail(format.who, "{}: file not found (the {} binary version holds {})", path, format.title, fmt::join(files, ", "));
  }
  const auto size = fs::file_size(path, ec);
  if (ec) fail(format.who, "{}: cannot stat: {}", path, ec.message());
  return size_t(size);
}

Dataset read_cifar_files(const std::string& root, const std::vector<std::string>& files, const RecordFormat& format,
                         std::string name, std::vector<std::string> class_names) {
  check_root(root, format, files);
  // Sizes first, so every file is checked before any is read and the pixels
  // are copied straight into one tensor (no second copy of the whole set).
  std::vector<std::string> paths;
  std::vector<int64_t> records;
  int64_t total = 0;
  for (const std::string& file : files) {
    paths.push_back((fs::path(root) / file).string());
    records.push_back(count_records(paths.back(), file_size_of(paths.back(), format, files), format));
    total += records.back();
  }
  Dataset out;
  out.name = std::move(name);
  out.images = empty({total, kChannels, kSide, kSide}, {DType::u8});
  out.labels = empty({total}, {DType::i64});
  out.num_classes = format.num_classes;
  out.class_names = std::move(class_names);
  uint8_t* pixels = out.images.data<uint8_t>();
  int64_t* labels = out.labels.data<int64_t>();
  int64_t n = 0;
  for (size_t f = 0; f < paths.size(); ++f) {
    const std::vector<uint8_t> content = read_file(paths[f], format.who);
    if (count_records(paths[f], content.size(), format) != records[f]) {
      fail(format.who, "{}: file changed size while being read", paths[f]);
    }
    for (int64_t r = 0; r < records[f]; ++r, ++n) {
      const uint8_t* record = content.data() + r * format.record_bytes();
      labels[n] = record_label(record, r, paths[f], format);
      std::memcpy(pixels + n * kPixels, record + format.label_bytes, kPixels);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> cifar10_files(Split split) {
  if (split == Split::test) return {"test_batch.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

std::vector<std::string> cifar100_files(Split split) { return {split == Split::train ? "train.bin" : "test.bin"}; }

Dataset read_cifar10(const std::string& root, Split split) {
  const RecordFormat format{"cifar10", "CIFAR-10", 1, 0, 10, 0, 10000};
  return read_cifar_files(root, cifar10_files(split), format, "cifar10/" + split_name(split), kCifar10Classes);
}

Dataset read_cifar100(const std::string& root, Split split, Cifar100Label label) {
  const bool fine = label == Cifar100Label::fine;
  const RecordFormat format{"cifar100", "CIFAR-100", 2, fine ? 1 : 0, fine ? 100 : 20, fine ? 20 : 100,
                            split == Split::train ? 50000 : 10000};
  return read_cifar_files(root, cifar100_files(split), format,
                          fmt::format("cifar100/{}/{}", split_name(split), fine ? "fine" : "coarse"),
                          fine ? kCifar100Fine : kCifar100Coarse);
}

}  // namespace strata::data
