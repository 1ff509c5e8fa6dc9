// Pieces the operator views share: buttons that show their key, a grid of live camera tiles, and keys
// that work anywhere in the window while a view shows.
#pragma once

#include <QBoxLayout>
#include <QKeySequence>
#include <QPushButton>
#include <functional>
#include <vector>

#include "core/hardware.hpp"

namespace flywheel::gui {

class CameraTile;

QPushButton* keyButton(const QString& text, const QString& key, QWidget* parent);

// Adds the cameras' tiles, two to a row, to `layout` with `stretch`; returns them for refreshing.
std::vector<CameraTile*> addCameraGrid(QBoxLayout* layout, const std::vector<Camera*>& cameras, int stretch,
                                       QWidget* parent);

// `action` on `key` anywhere in the window, but only while `view` shows.
void addViewShortcut(QWidget* view, QKeySequence key, std::function<void()> action);

}  // namespace flywheel::gui
