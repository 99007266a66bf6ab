-- Headless Neovim with a set-up from the README (the module's, or the 0.8+ snippet), started
-- on a file agents touched: waits for its code lens, then appends the contents of
-- $BURNMETER_TEST_APPEND_FROM to the session log $BURNMETER_TEST_APPEND_TO (an agent at
-- work) and waits up to 20 s for the lens to change, with no key pressed and no autocmd
-- fired. Writes {"before": [title, ...], "after": [title, ...], "seconds": s} to
-- $BURNMETER_TEST_OUT.
local common = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_common.lua")
local titles = common.titles

local bufnr = vim.api.nvim_get_current_buf()
vim.wait(30000, function()
  return #titles(bufnr) > 0
end, 50)
local before = titles(bufnr)

local from = assert(io.open(os.getenv("BURNMETER_TEST_APPEND_FROM"), "r"))
local line = from:read("*a")
from:close()
local log = assert(io.open(os.getenv("BURNMETER_TEST_APPEND_TO"), "a"))
log:write(line)
log:close()
local started = (vim.uv or vim.loop).hrtime()
vim.wait(20000, function()
  return table.concat(titles(bufnr), "|") ~= table.concat(before, "|")
end, 50)
local result = {
  before = before,
  after = titles(bufnr),
  seconds = ((vim.uv or vim.loop).hrtime() - started) / 1e9,
}

common.finish(result)
