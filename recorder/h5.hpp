// Thin RAII and helpers over the HDF5 C API (the library is built thread-safe on Debian).
#pragma once

#include <hdf5.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace flywheel::h5 {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {  // gives up ownership
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// HDF5's file lock refused the open: another process has the file open for writing.
struct BusyError : Error {
  using Error::Error;
};

// Throws h5::Error("<what>") when an HDF5 call returned a negative id/status.
hid_t check(hid_t id, const std::string& what);

inline Handle file(hid_t id) {
  return {id, H5Fclose};
}
inline Handle dataset(hid_t id) {
  return {id, H5Dclose};
}
inline Handle group(hid_t id) {
  return {id, H5Gclose};
}
inline Handle space(hid_t id) {
  return {id, H5Sclose};
}
inline Handle type(hid_t id) {
  return {id, H5Tclose};
}
inline Handle plist(hid_t id) {
  return {id, H5Pclose};
}
inline Handle attribute(hid_t id) {
  return {id, H5Aclose};
}

// Root/group attributes in the forms h5py reads naturally: str, float, numpy bool.
void writeStringAttribute(hid_t object, const std::string& name, const std::string& value);
void writeDoubleAttribute(hid_t object, const std::string& name, double value);
void writeBoolAttribute(hid_t object, const std::string& name, bool value);
bool hasAttribute(hid_t object, const std::string& name);
std::string readStringAttribute(hid_t object, const std::string& name);
double readDoubleAttribute(hid_t object, const std::string& name);
bool readBoolAttribute(hid_t object, const std::string& name);
// Text attributes longer than this are refused as damaged rather than read.
constexpr std::size_t kMaxAttributeBytes = 1 << 20;

std::vector<hsize_t> shapeOf(hid_t dataset);
std::string typeName(hid_t dataset);  // "float64", "uint8", ...

// What a dataset in a file the studio did not just write holds, checked before anything is read from it.
struct DatasetInfo {
  std::vector<hsize_t> shape;  // empty for a scalar
  H5T_class_t kind = H5T_NO_CLASS;
  std::size_t elementBytes = 0;
  hssize_t elements = 0;  // 0 for an empty or null dataspace
  bool numeric() const { return kind == H5T_INTEGER || kind == H5T_FLOAT || kind == H5T_ENUM; }
  std::string describe() const;  // "[4096] integer of 1 byte"
};
DatasetInfo datasetInfo(hid_t dataset);  // throws Error

// Opens an existing file; throws BusyError when HDF5's file lock refuses it, Error for anything else.
Handle openExisting(const std::string& path, unsigned flags, hid_t accessProperties = H5P_DEFAULT);

// Silences HDF5's automatic error stack printing: we report errors ourselves.
void quietErrors();

}  // namespace flywheel::h5
