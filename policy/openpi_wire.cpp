#include "policy/openpi_wire.hpp"

#include <cstring>
#include <msgpack.hpp>
#include <sstream>

#include "policy/policy.hpp"

namespace flywheel::openpi {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void packBin(Packer& packer, const void* data, std::size_t size) {
  packer.pack_bin(static_cast<std::uint32_t>(size));
  packer.pack_bin_body(static_cast<const char*>(data), static_cast<std::uint32_t>(size));
}

void packKey(Packer& packer, const char* key) {
  packBin(packer, key, std::strlen(key));
}

void packArray(Packer& packer, const char* dtype, const std::vector<std::size_t>& shape, const void* data,
               std::size_t bytes) {
  packer.pack_map(4);
  packKey(packer, "__ndarray__");
  packer.pack(true);
  packKey(packer, "data");
  packBin(packer, data, bytes);
  packKey(packer, "dtype");
  packer.pack(std::string(dtype));
  packKey(packer, "shape");
  packer.pack(shape);
}

std::string keyText(const msgpack::object& key) {
  if (key.type == msgpack::type::STR) return std::string(key.via.str.ptr, key.via.str.size);
  if (key.type == msgpack::type::BIN) return std::string(key.via.bin.ptr, key.via.bin.size);
  return {};
}

// A map's value by key, whether the key came as str or bin; nullptr when absent.
const msgpack::object* find(const msgpack::object& map, const std::string& key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i)
    if (keyText(map.via.map.ptr[i].key) == key) return &map.via.map.ptr[i].val;
  return nullptr;
}

double number(const msgpack::object& value) {
  switch (value.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return value.via.f64;
    case msgpack::type::POSITIVE_INTEGER:
      return static_cast<double>(value.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return static_cast<double>(value.via.i64);
    default:
      return -1.0;
  }
}

ActionChunk decodeActions(const msgpack::object& array) {
  const msgpack::object* marker = find(array, "__ndarray__");
  const msgpack::object* data = find(array, "data");
  const msgpack::object* dtype = find(array, "dtype");
  const msgpack::object* shape = find(array, "shape");
  if (!marker || !data || !dtype || !shape || data->type != msgpack::type::BIN)
    throw PolicyError("the reply's \"actions\" is not a numpy array (no __ndarray__/data/dtype/shape)");
  std::vector<std::size_t> dims;
  try {
    dims = shape->as<std::vector<std::size_t>>();
  } catch (const msgpack::type_error&) {
    throw PolicyError("the reply's \"actions\" has a shape that is not a list of sizes");
  }
  if (dims.size() != 2)
    throw PolicyError("the reply's \"actions\" has " + std::to_string(dims.size()) +
                      " dimensions, expected [H, A]");
  if (dims[0] > 100000 || dims[1] > 4096)
    throw PolicyError("the reply's \"actions\" has an implausible shape [" + std::to_string(dims[0]) + ", " +
                      std::to_string(dims[1]) + "]");
  const std::string type = keyText(*dtype);
  const std::size_t count = dims[0] * dims[1];
  const std::size_t width = type == "<f4" ? 4 : type == "<f8" ? 8 : 0;
  if (width == 0)
    throw PolicyError("the reply's \"actions\" has dtype " + type + "; float32 or float64 expected");
  if (data->via.bin.size != count * width)
    throw PolicyError("the reply's \"actions\" holds " + std::to_string(data->via.bin.size) +
                      " bytes for shape [" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) +
                      "] of " + type);
  ActionChunk chunk{static_cast<int>(dims[0]), static_cast<int>(dims[1]), std::vector<double>(count)};
  for (std::size_t i = 0; i < count; ++i) {
    if (width == 4) {
      float value;
      std::memcpy(&value, data->via.bin.ptr + i * 4, 4);
      chunk.values[i] = value;
    } else {
      std::memcpy(&chunk.values[i], data->via.bin.ptr + i * 8, 8);
    }
  }
  return chunk;
}

msgpack::object_handle unpack(const std::string& bytes, const char* what) {
  try {
    // Sizes a reply may announce: a garbled or hostile length must be refused, not allocated (the
    // fuzzer found a 4-byte map header that asked for gigabytes).
    const msgpack::unpack_limit limit(/*array*/ 1 << 16, /*map*/ 1024, /*str*/ 1 << 20,
                                      /*bin*/ kMaxReplyBytes,
                                      /*ext*/ 0, /*depth*/ 16);
    return msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, limit);
  } catch (const std::exception& e) {
    throw PolicyError(std::string(what) + " is not msgpack: " + e.what());
  }
}

}  // namespace

std::string encodeObservation(const JointVector& state, const std::vector<CameraImage>& images,
                              const std::string& prompt) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(3);
  packer.pack(std::string("state"));
  std::vector<float> state32(state.begin(), state.end());
  packArray(packer, "<f4", {state32.size()}, state32.data(), state32.size() * sizeof(float));
  packer.pack(std::string("images"));
  packer.pack_map(static_cast<std::uint32_t>(images.size()));
  for (const CameraImage& image : images) {
    packer.pack(image.name);
    packArray(packer, "|u1",
              {3, static_cast<std::size_t>(image.height), static_cast<std::size_t>(image.width)},
              image.chw.data(), image.chw.size());
  }
  packer.pack(std::string("prompt"));
  packer.pack(prompt);
  return std::string(buffer.data(), buffer.size());
}

Reply decodeReply(const std::string& bytes) {
  msgpack::object_handle handle = unpack(bytes, "the server's reply");
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) throw PolicyError("the server's reply is not a map");
  const msgpack::object* actions = find(root, "actions");
  if (!actions) throw PolicyError("the server's reply has no \"actions\"");
  Reply reply;
  reply.actions = decodeActions(*actions);
  for (const char* section : {"server_timing", "policy_timing"})
    if (const msgpack::object* timing = find(root, section))
      if (const msgpack::object* infer = find(*timing, "infer_ms"); infer && reply.serverInferMs < 0)
        reply.serverInferMs = number(*infer);
  return reply;
}

std::string describeMetadata(const std::string& bytes) {
  msgpack::object_handle handle = unpack(bytes, "the server's metadata");
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) throw PolicyError("the server's metadata is not a map");
  std::ostringstream text;
  for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
    const msgpack::object& value = root.via.map.ptr[i].val;
    text << (i ? ", " : "") << keyText(root.via.map.ptr[i].key) << "=";
    if (value.type == msgpack::type::STR || value.type == msgpack::type::BIN)
      text << keyText(value);
    else if (value.type == msgpack::type::MAP || value.type == msgpack::type::ARRAY)
      text << "...";
    else
      text << value;
  }
  return text.str();
}

}  // namespace flywheel::openpi
