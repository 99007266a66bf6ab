;;; Batch Emacs: eglot with the README's snippet (resources/editors/emacs/burnmeter-eglot.el,
;;; loaded from $BURNMETER_EGLOT_SNIPPET) starts `burnmeter lsp' for the file named in
;;; $BURNMETER_TEST_FILE, asks it for code lenses and hover through the connection eglot
;;; made, and writes both results as JSON to $BURNMETER_TEST_OUT, or "ERROR: ..." if a step
;;; failed.  eglot 1.9 has no code lens display, so the lens request goes through
;;; `jsonrpc-request' on eglot's own server object.
;; Run without -Q: Debian's site-start puts its elpa-eglot package on package.el's path
;; (batch Emacs still reads no user init file).
(require 'json)

(defvar burnmeter-test-out (getenv "BURNMETER_TEST_OUT"))

(defun burnmeter-test-write (text)
  (with-temp-file burnmeter-test-out (insert text "\n")))

(condition-case err
    (progn
      (load (getenv "BURNMETER_EGLOT_SNIPPET") nil t)
      (require 'eglot)
      ;; Block until the server answered `initialize' instead of connecting in the
      ;; background.
      (setq eglot-sync-connect t
            eglot-connect-timeout 30)
      (find-file (getenv "BURNMETER_TEST_FILE"))
      (unless (derived-mode-p 'python-mode)
        (error "Not in python-mode but %s" major-mode))
      ;; What `M-x eglot' does, without its prompts: the contact comes from
      ;; `eglot-server-programs', that is from the snippet.
      (apply #'eglot (eglot--guess-contact))
      (let ((server (eglot-current-server)))
        (unless server
          (error "eglot did not connect"))
        (let* ((lenses (jsonrpc-request
                        server :textDocument/codeLens
                        (list :textDocument (eglot--TextDocumentIdentifier))
                        :timeout 15))
               (hover (progn
                        (goto-char (point-min))
                        (jsonrpc-request server :textDocument/hover
                                         (eglot--TextDocumentPositionParams)
                                         :timeout 15)))
               (contact (process-command (jsonrpc--process server))))
          (burnmeter-test-write
           (json-encode (list :command (vconcat contact)
                              :lenses lenses
                              :hover hover)))
          (eglot-shutdown server))))
  (error (burnmeter-test-write (format "ERROR: %S" err))))
(kill-emacs 0)
