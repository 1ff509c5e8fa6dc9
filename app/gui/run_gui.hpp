// The window's entry point, as the `flywheel gui` command (and a bare `flywheel` with a display) calls it.
#pragma once

#include <string>

namespace flywheel::app {

struct GuiOptions {
  std::string rig = "sim";
  std::string out;
  std::string screenshot;  // save the window as PNG after `screenshotDelay` seconds, then quit
  double screenshotDelay = 3.0;
  std::string screenshotFolder;  // save every view at 1280x800 and 1920x1080 there, then quit
};

int runGui(int argc, char** argv, const GuiOptions& options);

}  // namespace flywheel::app
