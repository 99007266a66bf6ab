-- Headless Neovim: attach `burnmeter lsp` through resources/editors/neovim/burnmeter.lua
-- to the file named in $BURNMETER_TEST_FILE and write the code lens titles it shows to
-- $BURNMETER_TEST_OUT (one a line), or "ERROR: ..." if none came.
package.path = os.getenv("BURNMETER_NVIM_LUA") .. "/?.lua;" .. package.path
local burnmeter = require("burnmeter")
burnmeter.config.cmd = { os.getenv("BURNMETER_TEST_PYTHON"), "-m", "shared", "lsp" }
local out = assert(io.open(os.getenv("BURNMETER_TEST_OUT"), "w"))

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("BURNMETER_TEST_FILE")))
local bufnr = vim.api.nvim_get_current_buf()
local client_id = burnmeter.attach(bufnr)
local ready = vim.wait(30000, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized == true
end, 50)
if not ready then
  out:write("ERROR: the server did not initialize\n")
  out:close()
  vim.cmd("qa!")
end

-- The lenses as Neovim's own code lens support fetches and stores them.
vim.lsp.codelens.refresh()
local titles = {}
vim.wait(15000, function()
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr) or {}) do
    if lens.command and lens.command.title then
      table.insert(titles, lens.command.title)
    end
  end
  return #titles > 0
end, 100)
if #titles == 0 then
  out:write("ERROR: no code lens\n")
end
for _, title in ipairs(titles) do
  out:write(title .. "\n")
end
out:close()
vim.lsp.stop_client(client_id)
vim.wait(3000, function()
  return vim.lsp.get_client_by_id(client_id) == nil
end, 50)
vim.cmd("qa!")
