" lcrules .rules files. *.rules is also udev's, polkit's and Snort's: Vim's own detection
" runs first and settles udev and polkit files by their path (udevrules, javascript); any
" other *.rules file, which Vim would take for Snort's (hog), is an lcrules file.
autocmd BufNewFile,BufRead *.rules if &filetype ==# '' || &filetype ==# 'hog' | set filetype=lcrules | endif
