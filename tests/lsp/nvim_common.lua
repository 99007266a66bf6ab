-- What the headless-Neovim drivers of these tests share: the code lens titles a buffer
-- shows, the running LSP clients (on Neovim 0.7 to 0.11), and the way out (write what was
-- seen to $BURNMETER_TEST_OUT as JSON, stop the clients, quit). Loaded by each driver
-- with `dofile` from the driver's own folder.
local M = {}

function M.titles(bufnr)
  local found = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr) or {}) do
    if lens.command and lens.command.title then
      table.insert(found, lens.command.title)
    end
  end
  return found
end

function M.clients()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients()
  end
  return vim.lsp.get_active_clients()
end

function M.finish(result)
  local out = assert(io.open(os.getenv("BURNMETER_TEST_OUT"), "w"))
  out:write(vim.fn.json_encode(result))
  out:close()
  for _, client in ipairs(M.clients()) do
    client.stop()
  end
  vim.wait(5000, function()
    return #M.clients() == 0
  end, 50)
  vim.cmd("qa!")
end

return M
