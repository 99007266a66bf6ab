-- burnmeter for Neovim's built-in LSP client (Neovim 0.7+). Put this file in your config's
-- lua/ folder and `require("burnmeter").setup()` (or copy the body into init.lua); not on
-- the PATH, `require("burnmeter").setup({ cmd = { "/full/path/to/burnmeter", "lsp" } })`.
local M = {}

M.config = {
  name = "burnmeter",
  cmd = { "burnmeter", "lsp" },
  init_options = { codeLens = true, hover = true, tierHints = true, progress = true },
}

local uv = vim.uv or vim.loop

-- Neovim 0.7 has no vim.lsp.start: one client per workspace root, reused for every buffer
-- in it ({root = client id}).
local clients_by_root = {}

-- The buffer's workspace: the nearest folder above it with a `.git` (a folder, or a file
-- in a worktree or submodule), else the file's own folder. Plain filesystem checks, since
-- vim.fs is Neovim 0.8+.
function M.root_dir(path)
  local start = vim.fn.fnamemodify(path, ":p:h")
  local dir = start
  while true do
    if uv.fs_stat(dir .. "/.git") then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return start
    end
    dir = parent
  end
end

local function buffer_clients(bufnr)
  if vim.lsp.get_clients then -- Neovim 0.10+
    return vim.lsp.get_clients({ bufnr = bufnr, name = M.config.name })
  end
  local clients = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == M.config.name then
      table.insert(clients, client)
    end
  end
  return clients
end

-- Whether an initialised burnmeter client serves the buffer. Refreshing code lenses
-- before that is lost, and on Neovim 0.7 it blocks every later refresh of the buffer.
function M.ready(bufnr)
  for _, client in ipairs(buffer_clients(bufnr)) do
    if client.initialized == true then
      return true
    end
  end
  return false
end

local function buffer_alive(bufnr)
  return vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_buf_is_loaded(bufnr)
end

-- Lens requests of ours still waiting for their answer ({bufnr = when sent}, Neovim 0.7-0.9).
local lens_requests = {}
local LENS_ANSWER_WAIT_MS = 10000

-- Fetch and show the buffer's code lenses, once its client is ready.
function M.refresh(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not buffer_alive(bufnr) or not M.ready(bufnr) then
    return
  end
  if vim.fn.has("nvim-0.10") == 1 then
    -- 0.10+ take { bufnr }, and drop an answer for a buffer gone meanwhile.
    pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
    return
  end
  -- 0.7-0.9: vim.lsp.codelens.refresh() serves the current buffer only, and its answer's
  -- handler fails on a buffer wiped meanwhile (`:e file | bwipeout`: "Invalid buffer id"
  -- in vim.lsp.codelens.save). The same request, with a handler that drops such an answer.
  local sent = lens_requests[bufnr]
  if sent ~= nil and uv.now() - sent < LENS_ANSWER_WAIT_MS then
    return
  end
  lens_requests[bufnr] = uv.now()
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  local ok = pcall(vim.lsp.buf_request, bufnr, "textDocument/codeLens", params, function(err, result, ctx, config)
    lens_requests[bufnr] = nil
    if buffer_alive(bufnr) then
      vim.lsp.codelens.on_codelens(err, result, ctx, config)
    end
  end)
  if not ok then
    lens_requests[bufnr] = nil
  end
end

-- Neovim asks for code lenses only when told to: it does not support
-- workspace/codeLens/refresh, so a lens stayed as it was while an agent worked until a key
-- was pressed. The server's `burnmeter/status`, sent when the ledger changes, refreshes the
-- lenses of the buffers shown in the current tab page that this client serves, at most once
-- per M.lens_interval_ms (the first change waits that long, the ones meanwhile join it).
M.lens_interval_ms = 2000
local lens_refresh_due = {} -- {client id = true} while a refresh waits

local function refresh_shown(client_id)
  lens_refresh_due[client_id] = nil
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local bufnr = vim.api.nvim_win_get_buf(win)
    if vim.lsp.buf_is_attached(bufnr, client_id) then
      M.refresh(bufnr)
    end
  end
end

function M.on_status(_, _, ctx)
  local client_id = ctx and ctx.client_id
  if client_id == nil or lens_refresh_due[client_id] then
    return
  end
  lens_refresh_due[client_id] = true
  vim.defer_fn(function()
    refresh_shown(client_id)
  end, M.lens_interval_ms)
end

-- Attach burnmeter to a file buffer; returns the client id.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" or vim.api.nvim_buf_get_option(bufnr, "buftype") ~= "" then
    return nil
  end
  local root_dir = M.root_dir(path)
  local config = vim.tbl_extend("force", M.config, {
    root_dir = root_dir,
    handlers = vim.tbl_extend("force", { ["burnmeter/status"] = M.on_status }, M.config.handlers or {}),
    on_attach = function(client, attached)
      M.refresh(attached)
      if M.config.on_attach then
        M.config.on_attach(client, attached)
      end
    end,
  })
  if vim.lsp.start then -- Neovim 0.8+: reuses the client of the same name and root
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local client_id = clients_by_root[root_dir]
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    config.workspace_folders = { { uri = vim.uri_from_fname(root_dir), name = root_dir } }
    config.on_exit = function()
      if clients_by_root[root_dir] == client_id then
        clients_by_root[root_dir] = nil
      end
    end
    client_id = vim.lsp.start_client(config)
    clients_by_root[root_dir] = client_id
  end
  if client_id ~= nil then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  return client_id
end

-- `opts` go over M.config: `cmd` (e.g. { "/path/to/.venv/bin/burnmeter", "lsp" } when
-- burnmeter is not on the editor's PATH), `init_options`, `name`, `handlers` (over the one
-- for `burnmeter/status` that refreshes the lenses).
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  local group = vim.api.nvim_create_augroup("burnmeter", { clear = true })
  vim.api.nvim_create_autocmd("BufReadPost", {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- Keep code lenses (agent cost per file) fresh; the first comes with on_attach.
  vim.api.nvim_create_autocmd({ "BufEnter", "CursorHold", "InsertLeave" }, {
    group = group,
    callback = function(args)
      M.refresh(args.buf)
    end,
  })
  -- Buffers read before setup() ran (a lazily loaded config).
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
end

return M
