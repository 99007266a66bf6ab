;;; Batch Emacs: eglot with the README's snippet (loaded from $BURNMETER_EGLOT_SNIPPET)
;;; starts `burnmeter lsp' for $BURNMETER_TEST_FILE, waits until the server has published
;;; diagnostics (the tier hint of $BURNMETER_TEST_SECOND, a file not open yet: eglot drops
;;; those), then opens $BURNMETER_TEST_SECOND and waits for its diagnostics in Flymake.
;;; Writes {"first": [text, ...], "second": [text, ...]} as JSON to $BURNMETER_TEST_OUT, or
;;; "ERROR: ..." if a step failed.
;; Run without -Q: Debian's site-start puts its elpa-eglot package on package.el's path.
(require 'json)

(defvar burnmeter-test-out (getenv "BURNMETER_TEST_OUT"))

(defun burnmeter-test-write (text)
  (with-temp-file burnmeter-test-out (insert text "\n")))

(defun burnmeter-test-wait (predicate seconds)
  (let ((end (+ (float-time) seconds)))
    (while (and (not (funcall predicate)) (< (float-time) end))
      (accept-process-output nil 0.1))
    (funcall predicate)))

(defun burnmeter-test-diagnostics ()
  (mapcar #'flymake-diagnostic-text (flymake-diagnostics)))

(defun burnmeter-test-published-p (server)
  (with-current-buffer (jsonrpc-events-buffer server)
    (save-excursion
      (goto-char (point-min))
      (search-forward "textDocument/publishDiagnostics" nil t))))

(condition-case err
    (progn
      (load (getenv "BURNMETER_EGLOT_SNIPPET") nil t)
      (require 'eglot)
      (setq eglot-sync-connect t
            eglot-connect-timeout 30)
      (find-file (getenv "BURNMETER_TEST_FILE"))
      (apply #'eglot (eglot--guess-contact))
      (let ((server (eglot-current-server)))
        (unless server
          (error "eglot did not connect"))
        (unless (burnmeter-test-wait
                 (lambda () (burnmeter-test-published-p server)) 30)
          (error "the server published no diagnostics"))
        (let ((first (burnmeter-test-diagnostics)))
          (find-file (getenv "BURNMETER_TEST_SECOND"))
          (unless (eq (eglot-current-server) server)
            (error "eglot does not manage the second file"))
          ;; Flymake starts after a command or on display, neither of which happens in
          ;; batch Emacs: start it as an interactive Emacs would have.
          (flymake-start)
          (burnmeter-test-wait #'burnmeter-test-diagnostics 10)
          (burnmeter-test-write
           (json-encode (list :first (vconcat first)
                              :second (vconcat (burnmeter-test-diagnostics)))))
          (eglot-shutdown server))))
  (error (burnmeter-test-write (format "ERROR: %S" err))))
(kill-emacs 0)
