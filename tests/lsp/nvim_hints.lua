-- Headless Neovim with the README's set-up (see nvim_readme_setup.lua), started on a file
-- with a tier hint: waits for the hint, wipes the buffer (`:bwipeout`, which drops its
-- diagnostics), opens the file again and waits for the hint there. Writes
-- {"first": [message, ...], "again": [message, ...]} to $BURNMETER_TEST_OUT.
local common = dofile(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":h") .. "/nvim_common.lua")
local other = os.getenv("BURNMETER_TEST_MORE")

local function messages(bufnr)
  local found = {}
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(found, diagnostic.message)
  end
  return found
end

local function wait_hint(bufnr, ms)
  vim.wait(ms, function()
    return #messages(bufnr) > 0
  end, 50)
  return messages(bufnr)
end

local path = vim.api.nvim_buf_get_name(0)
local first_buf = vim.api.nvim_get_current_buf()
local result = { first = wait_hint(first_buf, 30000) }
vim.cmd("edit " .. vim.fn.fnameescape(other))
vim.cmd("bwipeout " .. first_buf)
vim.cmd("edit " .. vim.fn.fnameescape(path))
result.again = wait_hint(vim.api.nvim_get_current_buf(), 10000)

common.finish(result)
