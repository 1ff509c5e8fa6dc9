// The rig files under resources/rigs, compiled into the binary so `--rig sim` works from anywhere.
#pragma once

#include <string>
#include <vector>

namespace flywheel {

const std::string* findBundledRig(const std::string& name);  // nullptr when not bundled
std::string bundledRigNames();                               // "sim, sim-aloha"

}  // namespace flywheel
