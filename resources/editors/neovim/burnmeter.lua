-- burnmeter for Neovim's built-in LSP client. Put this file in your config's lua/ folder
-- and `require("burnmeter").setup()` (or copy the body into init.lua).
local M = {}

M.config = {
  name = "burnmeter",
  cmd = { "burnmeter", "lsp" },
  init_options = { codeLens = true, hover = true, tierHints = true, progress = true },
}

-- Attach to every file buffer; the workspace is the buffer's git root (or its folder).
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" then
    return nil
  end
  local root = vim.fs and vim.fs.find and vim.fs.find(".git", { path = path, upward = true })[1]
  local root_dir = root and vim.fn.fnamemodify(root, ":h") or vim.fn.fnamemodify(path, ":h")
  local config = vim.tbl_extend("force", M.config, { root_dir = root_dir })
  if vim.lsp.start then -- Neovim 0.8+
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  config.workspace_folders = { { uri = vim.uri_from_fname(root_dir), name = root_dir } }
  local client_id = vim.lsp.start_client(config) -- Neovim 0.7
  vim.lsp.buf_attach_client(bufnr, client_id)
  return client_id
end

function M.setup()
  vim.api.nvim_create_autocmd("BufReadPost", {
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- Show code lenses (agent cost per file) and keep them fresh.
  vim.api.nvim_create_autocmd({ "BufEnter", "CursorHold", "InsertLeave" }, {
    callback = function()
      pcall(vim.lsp.codelens.refresh)
    end,
  })
end

return M
