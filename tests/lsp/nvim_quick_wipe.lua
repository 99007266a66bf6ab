-- Headless Neovim with the README's set-up, started on a file agents touched: waits for its
-- code lens, then five times opens $BURNMETER_TEST_MORE and wipes it at once
-- (`:bwipeout`), before the answer to the code lens request its opening sent has come, and
-- lets the answers arrive. Writes {"lenses": [title, ...] (the first file's, at the end),
-- "errmsg": v:errmsg, "messages": what :messages shows} to $BURNMETER_TEST_OUT; errors in
-- Neovim's callbacks go to its stderr.
local common = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_common.lua")
local titles = common.titles
local other = os.getenv("BURNMETER_TEST_MORE")

local first = vim.api.nvim_get_current_buf()
vim.wait(30000, function()
  return #titles(first) > 0
end, 50)
for _ = 1, 5 do
  vim.cmd("edit " .. vim.fn.fnameescape(other))
  vim.cmd("bwipeout! " .. vim.api.nvim_get_current_buf())
  vim.wait(1000, function()
    return false
  end, 20)
end

local result = {
  lenses = titles(first),
  errmsg = vim.v.errmsg,
  messages = vim.fn.execute("messages"),
}
common.finish(result)
