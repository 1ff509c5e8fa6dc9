// Edits an episode file the way someone else's script would: h5py (python3-h5py, a writer none of us wrote)
// opens it as `f` and runs `code`. Returns false when python fails.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace flywheel::testing {

inline bool h5pyEdit(const std::string& episodePath, const std::string& code) {
  const std::string script = episodePath + ".edit.py";
  {
    std::ofstream out(script);
    out << "import h5py, numpy as np, sys\n"
        << "def replace(f, key, data):\n    del f[key]\n    f[key] = data\n"
        << "with h5py.File(sys.argv[1], 'a') as f:\n    " << code << "\n";
  }
  const int status = std::system(("/usr/bin/python3 '" + script + "' '" + episodePath + "'").c_str());
  std::filesystem::remove(script);
  return status == 0;
}

inline std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace flywheel::testing
