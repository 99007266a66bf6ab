"""The dashboard window: 30 days of cost by day and model, by repo and by tier, the
subscription's API-equivalent value, and a sortable, filterable sessions table with a
detail view. Every ledger read goes through the worker; the window only draws."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QCloseEvent, QFontDatabase, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from shared.insights.budgets import ratio_text
from tray_app.charts import ChartWidget, paint_bars, paint_stacked_days
from tray_app.crossings import DashboardTarget
from tray_app.dashboard_data import (
    CHART_DAYS,
    SESSION_DAYS,
    DashboardData,
    SessionDetail,
    SessionRow,
)
from tray_app.texts import money, plural, short_model
from tray_app.worker import Worker

SESSION_COLUMNS = (
    "Last activity",
    "Agent",
    "Repo",
    "Branch",
    "Models",
    "Tokens",
    "Cost",
    "Tool calls",
    "Errors",
)
REPO_COLUMN = SESSION_COLUMNS.index("Repo")
MODELS_COLUMN = SESSION_COLUMNS.index("Models")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 2
FILTER_ROLE = Qt.ItemDataRole.UserRole + 3


class SessionTableModel(QAbstractTableModel):
    """The sessions table over plain rows: the view asks for the cells it draws. Filling a
    QStandardItemModel made an item per cell with four data roles each, on the GUI thread:
    0.6 s for 5,000 sessions at every refresh, the window frozen meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[str, list[tuple[str, object]], str]] = []
        self._order: tuple[int, Qt.SortOrder] | None = None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorted here, by each cell's key, in one Python sort: the proxy sorting itself
        asked this model for two keys per comparison (1.2 s for 20,000 sessions)."""
        self._order = (column, order)
        self.layoutAboutToBeChanged.emit()
        # The indexes kept across the move (the proxy's, so the view's selection and
        # current row) follow their session to its new row: left as they were, the
        # highlighted row was another session than the one in the detail view.
        kept = self.persistentIndexList()
        sessions = [self._rows[index.row()][0] for index in kept]
        self._sort_rows()
        row_of = {row[0]: n for n, row in enumerate(self._rows)}
        self.changePersistentIndexList(
            kept,
            [
                self.index(row_of[session_id], index.column())
                for session_id, index in zip(sessions, kept, strict=True)
            ],
        )
        self.layoutChanged.emit()

    def _sort_rows(self) -> None:
        if self._order is None:
            return
        column, order = self._order
        if not 0 <= column < len(SESSION_COLUMNS):
            return
        self._rows.sort(
            key=lambda row: _sort_key(row[1][column][1]),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )

    def set_rows(self, sessions: Sequence[SessionRow]) -> None:
        self.beginResetModel()
        self._rows = [
            (
                row.session_id,
                [
                    (row.last_activity_local, row.last_activity),
                    (row.agent, row.agent),
                    (row.place, row.place.lower()),
                    (row.branch, row.branch),
                    (", ".join(short_model(m) for m in row.models), ",".join(row.models)),
                    (f"{row.total_tokens:,}", row.total_tokens),
                    (money(row.cost_usd, row.unpriced_calls), row.cost_usd),
                    (str(row.tool_calls), row.tool_calls),
                    (str(row.tool_errors), row.tool_errors),
                ],
                # The id is searchable by the filter without taking a column.
                f"{row.agent} {row.session_id}",
            )
            for row in sessions
        ]
        self._sort_rows()
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(SESSION_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return SESSION_COLUMNS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        session_id, cells, id_filter = self._rows[index.row()]
        text, key = cells[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return key
        if role == SESSION_ID_ROLE:
            return session_id
        if role == FILTER_ROLE:
            return id_filter if index.column() == 1 else text
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"session {session_id}"
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(key, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _sort_key(key: object) -> tuple[int, object]:
    # Empty cells (no branch, no time) sort before any value instead of failing to compare.
    return (0, "") if key is None else (1, key)


class SessionProxy(QSortFilterProxyModel):
    """Filters the sessions; sorting is the source model's (see SessionTableModel.sort)."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)


LOAD_FAILED = "Could not read the ledger: "
# The banner's height, in lines of text: as tall as its text up to the first, scrolled
# beyond; never shorter than the second (or its text).
BANNER_MAX_LINES = 8
BANNER_MIN_LINES = 3
# The least time between the end of a dashboard load and a reload asked for meanwhile.
RELOAD_GAP_S = 1.0


class DashboardWindow(QMainWindow):
    def __init__(
        self,
        worker: Worker,
        load_data: Callable[[], DashboardData],
        load_detail: Callable[[str], SessionDetail],
    ) -> None:
        super().__init__()
        self.setWindowTitle("burnmeter")
        self.resize(initial_size())
        self._worker = worker
        self._load_data = load_data
        self._load_detail = load_detail
        self._loading = False
        self._reload_wanted = False
        self._load_started = 0.0
        self._pending_target: DashboardTarget | None = None
        # The flag an alert was raised for (session id, Flag.key): highlighted in that
        # session's detail view.
        self._alert_flag: tuple[str, str] | None = None
        self.data: DashboardData | None = None
        self.quit_on_close = False

        central = QWidget()
        layout = QVBoxLayout(central)
        # The banner's lasting lines by topic ("tray", "config", "ledger"), in the order
        # each topic first appeared; a topic's lines are replaced together.
        self._notices: dict[str, list[str]] = {}
        self._message = ""
        self.banner = QLabel()
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.banner_area = BannerArea(self.banner)
        self.banner_area.hide()
        layout.addWidget(self.banner_area)
        self.progress = QProgressBar()
        self.progress.setFormat("Reading agent logs: %p%")
        self.progress.hide()
        layout.addWidget(self.progress)
        self.empty_state = QLabel()
        self.empty_state.setWordWrap(True)
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty_state.setMargin(24)
        # Where burnmeter looked, in the CLI's words: a table aligned with spaces, so in a
        # fixed-width font.
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(self.empty_state.font().pointSizeF() * 1.1)
        self.empty_state.setFont(font)
        self.empty_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_state.hide()
        layout.addWidget(self.empty_state, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_overview(), "Overview")
        self.tabs.addTab(self._build_sessions(), "Sessions")
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _build_overview(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        # Said when the 30 days hold no call but the sessions' 90 days do.
        self.overview_note = QLabel()
        self.overview_note.setWordWrap(True)
        self.overview_note.setTextFormat(Qt.TextFormat.PlainText)
        self.overview_note.setStyleSheet(
            "QLabel { background: #e8f0fb; color: #1d3557; padding: 8px; border-radius: 4px; }"
        )
        self.overview_note.hide()
        grid.addWidget(self.overview_note, 0, 0, 1, 2)
        self.leverage_label = QLabel()
        self.leverage_label.setWordWrap(True)
        font = self.leverage_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.leverage_label.setFont(font)
        grid.addWidget(self.leverage_label, 1, 0, 1, 2)
        # At least 220 px tall: with the banner's least height, the window fits a
        # 1366×768 screen beside a 48-px panel.
        self.daily_chart = ChartWidget(QSize(600, 220))
        grid.addWidget(_boxed("Cost per day, last 30 days, by model", self.daily_chart), 2, 0, 1, 2)
        self.repo_chart = ChartWidget(QSize(300, 180))
        grid.addWidget(_boxed("By repo, last 30 days", self.repo_chart), 3, 0)
        self.tier_chart = ChartWidget(QSize(300, 180))
        grid.addWidget(_boxed("By model tier, last 30 days", self.tier_chart), 3, 1)
        grid.setRowStretch(2, 3)
        grid.setRowStretch(3, 2)
        return page

    def _build_sessions(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter sessions (repo, model, agent, branch, id)…")
        self.filter_edit.setClearButtonEnabled(True)
        layout.addWidget(self.filter_edit)
        self.session_model = SessionTableModel()
        self.session_proxy = SessionProxy()
        self.session_proxy.setSourceModel(self.session_model)
        self.session_proxy.setSortRole(SORT_ROLE)
        self.session_proxy.setFilterKeyColumn(-1)
        self.session_proxy.setFilterRole(FILTER_ROLE)
        self.session_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit.textChanged.connect(self.session_proxy.setFilterFixedString)
        self.session_table = QTableView()
        self.session_table.setModel(self.session_proxy)
        self.session_table.setSortingEnabled(True)
        self.session_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.session_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.session_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.session_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.session_table.verticalHeader().hide()
        header = self.session_table.horizontalHeader()
        # The figures keep their width; the repo and the models share what is left and are
        # cut short in the middle when it is not enough (at the window's smallest, the
        # repo's full path and a stretched models column pushed Cost out of view).
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in (REPO_COLUMN, MODELS_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.session_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.session_table.setWordWrap(False)  # one line a row: cut short, not broken up
        self.session_table.selectionModel().selectionChanged.connect(self._on_selection)
        # Sorted, the selected session keeps its highlight at its new row: brought into
        # view, so the row beside the detail view is on screen. (The view sorts on this
        # signal first: it connected when sorting was enabled.)
        header.sortIndicatorChanged.connect(self._show_selected_row)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.detail.setHtml("<p>Select a session to see its models, tools, files and costs.</p>")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.session_table)
        splitter.addWidget(self.detail)
        splitter.setSizes([420, 240])
        layout.addWidget(splitter, 1)
        return page

    def add_notice(self, text: str, topic: str = "") -> None:
        """A lasting line of the banner (no tray on this desktop, a problem in the config
        file): kept above whatever message comes later."""
        lines = self._notices.setdefault(topic, [])
        if text and text not in lines:
            lines.append(text)
        self._show_banner()

    def set_notices(self, topic: str, texts: Sequence[str]) -> None:
        """Replace the lasting lines about `topic` (the config file's problems, once the
        file was saved or read again) and leave the others."""
        self._notices[topic] = list(dict.fromkeys(text for text in texts if text))
        self._show_banner()

    @property
    def notices(self) -> list[str]:
        return list(dict.fromkeys(text for lines in self._notices.values() for text in lines))

    def show_message(self, text: str) -> None:
        """The banner's passing line (an alert, an export's result): replaces the last one,
        never the notices."""
        self._message = text
        self._show_banner()

    def _show_banner(self) -> None:
        lines = [*self.notices, self._message] if self._message else self.notices
        self.banner.setText("\n\n".join(lines))
        self.banner.setStyleSheet(
            "QLabel { background: #fff4ce; color: #3d3000; padding: 8px; border-radius: 4px; }"
        )
        self.banner_area.setVisible(bool(lines))
        self.banner_area.updateGeometry()

    def show_import_progress(self, done: int, total: int) -> None:
        if total <= 0 or done >= total:
            self.progress.hide()
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * done / total))
        self.progress.setFormat(
            f"Reading agent logs: %p% ({done / 1e6:,.0f} of {total / 1e6:,.0f} MB)"
        )
        self.progress.show()

    def show_import_phase(self, text: str) -> None:
        """A step of the first import without a byte count: a busy bar with `text`."""
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text

    def show_target(self, target: DashboardTarget) -> None:
        self.tabs.setCurrentIndex(1 if target.tab == "sessions" else 0)
        # "The alert you clicked" is said of that alert's session until another target
        # or session is shown (it stayed for the rest of the run, also when the session
        # was opened later from the menu).
        self._alert_flag = (
            (target.session_id, target.flag_key) if target.session_id and target.flag_key else None
        )
        self._pending_target = target
        self._select_pending()

    def refresh(self) -> None:
        """Reload from the ledger in the background; a request during a load queues one
        more load, so the window ends up current without piling up work."""
        if self._loading:
            self._reload_wanted = True
            return
        self._loading = True
        self._load_started = time.monotonic()
        self._worker.submit(self._load_data, self._on_loaded, self._on_load_failed)

    def _on_loaded(self, data: DashboardData) -> None:
        took = time.monotonic() - self._load_started
        self._loading = False
        if self._message.startswith(LOAD_FAILED):
            # Read again: the failure of an earlier load (a ledger fixed meanwhile) is over.
            self.show_message("")
        self.show_data(data)
        if self._reload_wanted:
            self._reload_wanted = False
            # While an agent works the ledger changes every few seconds: reloading at once
            # after each load kept a core busy for good on a big ledger (a load of a year
            # of heavy use takes seconds). The next load waits twice the last one's time.
            self._loading = True
            QTimer.singleShot(int(max(RELOAD_GAP_S, 2 * took) * 1000), self._reload_after_gap)

    def _reload_after_gap(self) -> None:
        self._loading = False
        if self.isVisible():  # a closed window loads again when it is opened
            self.refresh()

    def _on_load_failed(self, exc: Exception) -> None:
        self._loading = False
        # Not said twice: the banner's lasting notice may say it already.
        self.show_message("" if str(exc) in self.notices else f"{LOAD_FAILED}{exc}")

    def show_data(self, data: DashboardData) -> None:
        self.data = data
        # No calls at all: where burnmeter looked. Calls, but none in the sessions' 90
        # days: when the latest was, and where to see it (blank boxes said nothing).
        quiet = no_recent_activity_text(data)
        empty = data.calls == 0 or (bool(quiet) and not data.sessions)
        if data.calls == 0:
            self.empty_state.setText(
                getattr(self, "_empty_text", "No model calls in the ledger yet.")
            )
        else:
            self.empty_state.setText(quiet)
        # The one going away is hidden first: for a moment with both shown the window's
        # least height was both, and Qt grew the window to it for good (718 → 761 px at a
        # first start, past a 768-px screen).
        if empty:
            self.tabs.setVisible(False)
            self.empty_state.setVisible(True)
        else:
            self.empty_state.setVisible(False)
            self.tabs.setVisible(True)
        self.overview_note.setText(quiet)
        self.overview_note.setVisible(bool(quiet) and not empty)
        self.daily_chart.set_painter(partial(paint_stacked_days, data=data.daily))
        self.repo_chart.set_painter(partial(paint_bars, rows=data.repos[:12]))
        self.tier_chart.set_painter(partial(paint_bars, rows=data.tiers, colour="#b07aa1"))
        self.leverage_label.setText(_leverage_text(data))
        self._fill_sessions(data)
        self._select_pending()

    def _fill_sessions(self, data: DashboardData) -> None:
        selected = self.selected_session_id()
        self.session_model.set_rows(data.sessions)
        if selected:
            self.select_session(selected)

    def selected_session_id(self) -> str | None:
        rows = self.session_table.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(SESSION_ID_ROLE)
        return str(value) if value else None

    def select_session(self, session_id: str) -> bool:
        for row in range(self.session_proxy.rowCount()):
            index = self.session_proxy.index(row, 0)
            if index.data(SESSION_ID_ROLE) == session_id:
                self.session_table.selectRow(row)
                self.session_table.scrollTo(index)
                return True
        return False

    def _show_selected_row(self) -> None:
        current = self.session_table.currentIndex()  # follows its session, as the selection
        if current.isValid():
            self.session_table.scrollTo(current)

    def _select_pending(self) -> None:
        target = self._pending_target
        if target is None or self.data is None:
            return
        if target.session_id:
            self.filter_edit.clear()
            if not self.select_session(target.session_id):
                return
        self._pending_target = None

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        session_id = self.selected_session_id()
        if not session_id:
            return
        if self._alert_flag is not None and self._alert_flag[0] != session_id:
            self._alert_flag = None
        self._worker.submit(partial(self._load_detail, session_id), self.show_detail)

    def show_detail(self, detail: SessionDetail) -> None:
        if detail.session_id != self.selected_session_id():
            return
        alert = self._alert_flag
        highlight = alert[1] if alert is not None and alert[0] == detail.session_id else None
        self.detail.setHtml(detail_html(detail, highlight))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quit_on_close:
            from PySide6.QtWidgets import QApplication

            QApplication.quit()
        super().closeEvent(event)


def initial_size() -> QSize:
    """1100×760, or less on a screen whose free area is smaller: on 1366×768 the window
    with its title bar ran past the screen's bottom edge."""
    size = QSize(1100, 760)
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return size
    area = screen.availableGeometry()
    # Room for the window manager's frame and title bar.
    return size.boundedTo(QSize(area.width() - 40, area.height() - 50))


class BannerArea(QScrollArea):
    """The banner, as tall as its text up to BANNER_MAX_LINES and scrolled beyond: each
    notice made the window's least height taller (six problems in config.toml: 794 px, more
    than a 1366×768 screen shows), and it can shrink to BANNER_MIN_LINES when the window
    is small."""

    def __init__(self, label: QLabel) -> None:
        super().__init__()
        self._label = label
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not taller than its text (the tabs take the rest), shorter when space is short.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._last_width = 0

    def _text_height(self) -> int:
        # The viewport's width, which leaves out a shown scroll bar (300 before the first
        # layout has sized it).
        return self._label.heightForWidth(max(self.viewport().width(), 300))

    def _lines(self, count: int) -> int:
        margins = self._label.contentsMargins()
        spacing = self._label.fontMetrics().lineSpacing()
        return count * spacing + margins.top() + margins.bottom() + 16  # the style's padding

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), min(self._text_height(), self._lines(BANNER_MAX_LINES)))

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), min(self._text_height(), self._lines(BANNER_MIN_LINES)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._last_width:
            # Narrower, the text takes more lines: the layout asks for the new height.
            self._last_width = event.size().width()
            self.updateGeometry()


def _boxed(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(widget)
    return box


def _month_name(label: str) -> str:
    try:
        return datetime.strptime(label, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return label


def no_recent_activity_text(data: DashboardData) -> str:
    """What to say when the ledger has calls but the chart's 30 days hold none (and
    whether the sessions' 90 days do); empty when the chart has something to show."""
    if data.calls == 0 or data.daily.values or data.last_activity is None:
        return ""
    latest = data.last_activity.isoformat()
    ago = (data.today - data.last_activity).days
    when = f"{latest}, {ago:,} days ago" if ago > 1 else latest
    see = "See the whole history with `burnmeter report daily` or `burnmeter report sessions`."
    if not data.sessions:
        return (
            f"No model calls in the last {SESSION_DAYS} days: the dashboard shows the last "
            f"{CHART_DAYS} days of cost and the sessions active in the last {SESSION_DAYS}.\n\n"
            f"Last activity: {when}. {see}"
        )
    return (
        f"No model calls in the last {CHART_DAYS} days, so the charts below are empty "
        f"(last activity: {when}); the Sessions tab lists the sessions active in the last "
        f"{SESSION_DAYS} days. {see}"
    )


def _leverage_text(data: DashboardData) -> str:
    lev = data.leverage
    month = _month_name(lev.month)
    value = money(lev.value_usd, lev.unpriced_calls)
    if lev.ratio is None:
        return (
            f"<b>{value}</b> of API-equivalent {lev.work} in {month}{lev.so_far} "
            "(set your plan and its price in Settings to compare)"
        )
    plan = html.escape(lev.plan or "your plan")
    return (
        f"<b>{value}</b> of API-equivalent {lev.work} in {month}{lev.so_far} on {plan} "
        f"at {money(lev.plan_price_usd or 0)}/month: <b>{ratio_text(lev.ratio)}×</b>"
    )


# The row of the flag a notification was about.
ALERT_FLAG_COLOUR = "#ffe08a"


def flags_html(detail: SessionDetail, highlight: str | None = None) -> str:
    """The session's runaway flags, first in its detail view; the one `highlight` names
    (the alert's) on a coloured row, marked as the notification's."""
    if not detail.flags:
        return ""
    rows = []
    for flag in detail.flags:
        mine = flag.key == highlight
        colour = f" bgcolor='{ALERT_FLAG_COLOUR}'" if mine else ""
        marker = " <b>← the alert you clicked</b>" if mine else ""
        when = f", {html.escape(flag.when)}" if flag.when else ""
        rows.append(
            f"<tr><td{colour}><b>{html.escape(flag.kind)}</b>: {html.escape(flag.evidence)} "
            f"({money(flag.cost_usd)} in the flagged stretch{when}){marker}</td></tr>"
        )
    return (
        f"<h4>Runaway flags ({len(detail.flags)})</h4>"
        f"<table cellspacing='0' cellpadding='4'>{''.join(rows)}</table>"
    )


def detail_html(detail: SessionDetail, highlight_flag: str | None = None) -> str:
    def table(title: str, rows: list[tuple[str, str]]) -> str:
        body = "".join(
            f"<tr><td>{html.escape(a)}</td><td align='right'>{html.escape(b)}</td></tr>"
            for a, b in rows
        )
        return f"<h4>{title}</h4><table cellspacing='0' cellpadding='2'>{body}</table>"

    parts = [f"<h3>Session {html.escape(detail.session_id)}</h3>"]
    parts.append(flags_html(detail, highlight_flag))
    models = [(short_model(m), money(c)) for m, c in detail.models]
    if len(models) > 1:  # the session's cost, as its row says it (the parts are rounded)
        models.append(("total", money(sum(c for _, c in detail.models), detail.unpriced_calls)))
    parts.append(table("Models", models))
    parts.append(table("Cost split", [(k, money(c)) for k, c in detail.cost_split]))
    if detail.unpriced_calls:
        parts.append(f"<p>{plural(detail.unpriced_calls, 'call')} of models without a price.</p>")
    parts.append(table("Tools", [(t, str(n)) for t, n in detail.tools] or [("none", "")]))
    files = "".join(f"<li>{html.escape(path)}</li>" for path in detail.files[:200])
    more = f"<p>…and {len(detail.files) - 200} more</p>" if len(detail.files) > 200 else ""
    parts.append(f"<h4>Files touched ({len(detail.files)})</h4><ul>{files}</ul>{more}")
    return "".join(parts)
