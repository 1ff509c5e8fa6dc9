#include "app/gui/view_parts.hpp"

#include <QGridLayout>
#include <QLabel>
#include <QShortcut>

#include "app/gui/camera_tile.hpp"

namespace flywheel::gui {

QPushButton* keyButton(const QString& text, const QString& key, QWidget* parent) {
  auto* button = new QPushButton(QString("%1   [%2]").arg(text, key), parent);
  button->setMinimumHeight(34);
  return button;
}

std::vector<CameraTile*> addCameraGrid(QBoxLayout* layout, const std::vector<Camera*>& cameras, int stretch,
                                       QWidget* parent) {
  auto* grid = new QGridLayout();
  std::vector<CameraTile*> tiles;
  const int columns = std::max(1, cameras.size() > 2 ? 2 : static_cast<int>(cameras.size()));
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    tiles.push_back(new CameraTile(*cameras[i], parent));
    grid->addWidget(tiles.back(), static_cast<int>(i) / columns, static_cast<int>(i) % columns);
  }
  if (cameras.empty()) grid->addWidget(new QLabel("This rig has no cameras.", parent), 0, 0, Qt::AlignCenter);
  layout->addLayout(grid, stretch);
  return tiles;
}

void addViewShortcut(QWidget* view, QKeySequence key, std::function<void()> action) {
  auto* shortcut = new QShortcut(key, view, [view, action = std::move(action)] {
    if (view->isVisible()) action();
  });
  shortcut->setContext(Qt::WindowShortcut);
}

}  // namespace flywheel::gui
