#include "recorder/h5.hpp"

#include <algorithm>
#include <cstring>

namespace flywheel::h5 {

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw Error(what);
  return id;
}

void quietErrors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {
herr_t findLockError(unsigned, const H5E_error2_t* error, void* found) {
  if (error->min_num == H5E_CANTLOCKFILE) *static_cast<bool*>(found) = true;
  return 0;
}
}  // namespace

Handle openExisting(const std::string& path, unsigned flags, hid_t accessProperties) {
  quietErrors();
  hid_t id = H5Fopen(path.c_str(), flags, accessProperties);
  if (id >= 0) return file(id);
  bool locked = false;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, findLockError, &locked);
  if (locked) throw BusyError(path + ": busy (open elsewhere)");
  throw Error(path + ": cannot be opened (damaged, or not an HDF5 file)");
}

namespace {
Handle boolType() {
  Handle t = type(check(H5Tenum_create(H5T_NATIVE_INT8), "create bool type"));
  std::int8_t no = 0, yes = 1;
  H5Tenum_insert(t, "FALSE", &no);
  H5Tenum_insert(t, "TRUE", &yes);
  return t;
}

Handle replaceAttribute(hid_t object, const std::string& name, hid_t fileType, hid_t dataspace) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  return attribute(check(H5Acreate2(object, name.c_str(), fileType, dataspace, H5P_DEFAULT, H5P_DEFAULT),
                         "create attribute '" + name + "'"));
}
}  // namespace

void writeStringAttribute(hid_t object, const std::string& name, const std::string& value) {
  Handle t = type(check(H5Tcopy(H5T_C_S1), "copy string type"));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  Handle s = space(H5Screate(H5S_SCALAR));
  Handle a = replaceAttribute(object, name, t, s);
  const char* text = value.c_str();
  check(H5Awrite(a, t, &text), "write attribute '" + name + "'");
}

void writeDoubleAttribute(hid_t object, const std::string& name, double value) {
  Handle s = space(H5Screate(H5S_SCALAR));
  Handle a = replaceAttribute(object, name, H5T_IEEE_F64LE, s);
  check(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), "write attribute '" + name + "'");
}

void writeBoolAttribute(hid_t object, const std::string& name, bool value) {
  Handle t = boolType();
  Handle s = space(H5Screate(H5S_SCALAR));
  Handle a = replaceAttribute(object, name, t, s);
  std::int8_t v = value ? 1 : 0;
  check(H5Awrite(a, t, &v), "write attribute '" + name + "'");
}

bool hasAttribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

namespace {
// An attribute written by another program may be an array, or any size: only one value is ever read.
Handle openSingleValue(hid_t object, const std::string& name) {
  Handle a = attribute(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "open attribute '" + name + "'"));
  Handle s = space(check(H5Aget_space(a), "attribute '" + name + "' has no dataspace"));
  if (H5Sget_simple_extent_npoints(s) != 1)
    throw Error("attribute '" + name + "' holds " + std::to_string(H5Sget_simple_extent_npoints(s)) +
                " values, expected one");
  return a;
}
}  // namespace

std::string readStringAttribute(hid_t object, const std::string& name) {
  Handle a = openSingleValue(object, name);
  Handle fileType = type(check(H5Aget_type(a), "type of attribute '" + name + "'"));
  if (H5Tget_class(fileType) != H5T_STRING) throw Error("attribute '" + name + "' is not a string");
  if (H5Tis_variable_str(fileType) > 0) {
    Handle t = type(H5Tcopy(H5T_C_S1));
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5Tget_cset(fileType));
    char* text = nullptr;
    check(H5Aread(a, t, &text), "read attribute '" + name + "'");
    std::string value = text ? std::string(text, strnlen(text, kMaxAttributeBytes + 1)) : "";
    Handle s = space(H5Aget_space(a));
    H5Dvlen_reclaim(t, s, H5P_DEFAULT, &text);
    if (value.size() > kMaxAttributeBytes) throw Error("attribute '" + name + "' is larger than 1 MiB");
    return value;
  }
  const std::size_t size = H5Tget_size(fileType);
  if (size == 0 || size > kMaxAttributeBytes) throw Error("attribute '" + name + "' is larger than 1 MiB");
  std::string value(size, '\0');
  check(H5Aread(a, fileType, value.data()), "read attribute '" + name + "'");
  return value.substr(0, strnlen(value.c_str(), value.size()));
}

double readDoubleAttribute(hid_t object, const std::string& name) {
  Handle a = openSingleValue(object, name);
  Handle fileType = type(check(H5Aget_type(a), "type of attribute '" + name + "'"));
  const H5T_class_t kind = H5Tget_class(fileType);
  if (kind != H5T_FLOAT && kind != H5T_INTEGER) throw Error("attribute '" + name + "' is not a number");
  double value = 0.0;
  check(H5Aread(a, H5T_NATIVE_DOUBLE, &value), "read attribute '" + name + "'");
  return value;
}

bool readBoolAttribute(hid_t object, const std::string& name) {
  Handle a = openSingleValue(object, name);
  Handle fileType = type(check(H5Aget_type(a), "type of attribute '" + name + "'"));
  std::int8_t v = 0;
  if (H5Tget_class(fileType) == H5T_ENUM) {
    Handle t = boolType();
    check(H5Aread(a, t, &v), "read attribute '" + name + "'");
  } else if (H5Tget_class(fileType) == H5T_INTEGER) {
    check(H5Aread(a, H5T_NATIVE_INT8, &v), "read attribute '" + name + "'");
  } else {
    throw Error("attribute '" + name + "' is not a boolean");
  }
  return v != 0;
}

std::vector<hsize_t> shapeOf(hid_t dataset) {
  Handle s = space(H5Dget_space(dataset));
  if (!s.valid()) return {};
  int rank = H5Sget_simple_extent_ndims(s);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::clamp(rank, 0, H5S_MAX_RANK)));
  if (!dims.empty() && H5Sget_simple_extent_dims(s, dims.data(), nullptr) < 0) return {};
  return dims;
}

DatasetInfo datasetInfo(hid_t dataset) {
  DatasetInfo info;
  Handle s = space(check(H5Dget_space(dataset), "dataset without a dataspace"));
  const int rank = H5Sget_simple_extent_ndims(s);
  if (rank < 0 || rank > H5S_MAX_RANK) throw Error("dataset with a damaged dataspace");
  info.shape.resize(static_cast<std::size_t>(rank));
  if (rank > 0) check(H5Sget_simple_extent_dims(s, info.shape.data(), nullptr), "dataset dimensions");
  info.elements = std::max<hssize_t>(H5Sget_simple_extent_npoints(s), 0);
  Handle t = type(check(H5Dget_type(dataset), "dataset without a type"));
  info.kind = H5Tget_class(t);
  info.elementBytes = H5Tget_size(t);
  return info;
}

std::string DatasetInfo::describe() const {
  std::string text = shape.empty() ? "a scalar [" : "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  const char* kindName = kind == H5T_INTEGER  ? "integer"
                         : kind == H5T_FLOAT  ? "float"
                         : kind == H5T_ENUM   ? "enum"
                         : kind == H5T_STRING ? "string"
                                              : "non-numeric";
  return text + "] " + kindName + " of " + std::to_string(elementBytes) + " byte(s)";
}

std::string typeName(hid_t dataset) {
  Handle t = type(H5Dget_type(dataset));
  std::size_t bits = H5Tget_size(t) * 8;
  switch (H5Tget_class(t)) {
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_INTEGER:
      return (H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_ENUM:
      return "bool";
    case H5T_STRING:
      return "string";
    default:
      return "other";
  }
}

}  // namespace flywheel::h5
