-- Headless Neovim started with the README's set-up (~/.config/nvim/init.lua calls
-- require("burnmeter").setup(), ~/.config/nvim/lua/burnmeter.lua is the shipped module)
-- and the file in $BURNMETER_TEST_FILE on its command line. Waits for the code lens that
-- Neovim itself fetches and shows (this script never asks for one), opens the files in
-- $BURNMETER_TEST_MORE (separated by "|") the same way, and writes what it saw to
-- $BURNMETER_TEST_OUT as JSON (files under $BURNMETER_TEST_NO_LENS get no lens: for those it
-- waits only for an initialised client): {"lenses": {path: [title, ...]}, "clients": [{"id": ..,
-- "root": .., "folders": [..]}], "messages": what :messages shows}.
local common = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_common.lua")
local titles, clients = common.titles, common.clients

local function client_ready(bufnr)
  for _, client in ipairs(clients()) do
    if client.initialized and vim.lsp.buf_is_attached(bufnr, client.id) then
      return true
    end
  end
  return false
end

local no_lens = os.getenv("BURNMETER_TEST_NO_LENS") or "\0"
local result = { lenses = {}, clients = {} }
local function visit(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  if vim.startswith(path, no_lens) then
    vim.wait(30000, function()
      return client_ready(bufnr)
    end, 50)
  else
    vim.wait(30000, function()
      return #titles(bufnr) > 0
    end, 50)
  end
  result.lenses[path] = titles(bufnr)
end

visit(vim.api.nvim_get_current_buf())
for _, path in ipairs(vim.split(os.getenv("BURNMETER_TEST_MORE") or "", "|", { plain = true })) do
  if path ~= "" then
    vim.cmd("edit " .. vim.fn.fnameescape(path))
    visit(vim.api.nvim_get_current_buf())
  end
end

result.messages = vim.fn.execute("messages")
for _, client in ipairs(clients()) do
  local folders = {}
  for _, folder in ipairs(client.workspace_folders or {}) do
    table.insert(folders, vim.uri_to_fname(folder.uri))
  end
  table.insert(result.clients, { id = client.id, root = client.config.root_dir, folders = folders })
end

common.finish(result)
