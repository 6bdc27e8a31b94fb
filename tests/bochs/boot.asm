; fdplug's Bochs boot test: a 1.44 MB floppy's boot sector (nasm -f bin, 512 bytes).
; It prints on Bochs' port 0xE9 (port_e9_hack):
;   FDTEST boot
;   CMOS 10=.. 14=.. 2D=.. 38=.. 3D=..       the bytes the floppy plugin set up
;   HASH xxxxxxxx TRACKS xxxx RETRIES xxxx    over every byte of the disk, read track by track
;   WRITE OK | WRITE FAIL                     a pattern written to C79/H1 and read back
;   FDTEST DONE
; and then stops Bochs by writing "Shutdown" to port 0x8900.
; Reading: INT 13h AH=02h, 18 sectors (one track) per call, cylinders 0-79, heads 0-1, into
; 1000:0000 (a 9 KiB buffer inside one 64 KiB DMA page); a failed call is retried after AH=00h.
; Hash: h = 5381, then h = (h * 33) ^ byte for each byte, 32-bit (tests/bochs/run_boot.py
; computes the same over the image file).
; Write pattern: byte i of the track (0..9215) = (i * 7 + 0x5A) & 0xFF.

%include "bootsect.inc"           ; org 0x7C00; the entry: segments, stack, msg_boot; then main

READSEG    equ 0x1000
WRITESEG   equ 0x2000
CHECKSEG   equ 0x3000

main:
        ; --- CMOS bytes
        mov si, cmos_regs
.cmos:  lodsb
        test al, al
        jz .cmos_done
        mov ah, al
        mov al, ' '
        call putc
        mov al, ah
        call hex8
        mov al, '='
        call putc
        mov al, ah
        out 0x70, al
        in al, 0x71
        call hex8
        jmp .cmos
.cmos_done:
        call newline

        ; --- read every track, hash it
        mov ebp, 5381
        xor di, di                   ; track number 0..159: C = di / 2, H = di & 1
.track: mov ax, READSEG
        mov es, ax
        mov ah, 0x02
        call track_io
        jc .next
        inc word [tracks]
        call hash_track
.next:  inc di
        cmp di, 160
        jb .track

        mov si, msg_hash
        call puts
        mov eax, ebp
        call hex32
        mov si, msg_tracks
        call puts
        mov ax, [tracks]
        call hex16
        mov si, msg_retries
        call puts
        mov ax, [retries]
        call hex16
        call newline

        ; --- write a pattern to C79/H1, read it back, compare
        mov ax, WRITESEG
        mov es, ax
        xor bx, bx
        xor di, di
        mov cx, TRACKBYTES
        mov al, 0x5A
.fill:  stosb
        add al, 7
        loop .fill
        mov di, 159
        mov ah, 0x03
        call track_io
        jc .wfail
        mov ax, CHECKSEG
        mov es, ax
        mov ah, 0x02
        call track_io
        jc .wfail
        push ds
        mov ax, WRITESEG
        mov ds, ax
        xor si, si
        xor di, di
        mov cx, TRACKBYTES
        repe cmpsb
        pop ds
        jne .wfail
        mov si, msg_wok
        jmp .wdone
.wfail: mov si, msg_wfail
.wdone: call puts

        mov si, msg_done
        call puts
        jmp shutdown

; INT 13h on track DI (C = DI/2, H = DI&1) of drive 0, all 18 sectors at ES:0000; AH = 02h
; (read) or 03h (write). Up to 4 tries, with a controller reset (AH=00h) after each failure.
; CF set when every try failed.
track_io:
        mov [io_op], ah
        mov byte [tries], 4
.again: mov ax, di
        shr ax, 1
        mov ch, al
        mov dx, di
        and dx, 1
        xchg dl, dh                  ; DH = head, DL = drive 0
        mov cl, 1
        xor bx, bx
        mov ah, [io_op]
        mov al, SECTORS
        int 0x13
        jnc .ok
        inc word [retries]
        xor ax, ax
        xor dl, dl
        int 0x13
        dec byte [tries]
        jnz .again
        stc
.ok:    ret

msg_boot     db 'FDTEST boot', 10, 'CMOS', 0
cmos_regs    db 0x10, 0x14, 0x2D, 0x38, 0x3D, 0
msg_hash     db 'HASH ', 0
msg_tracks   db ' TRACKS ', 0
msg_retries  db ' RETRIES ', 0
msg_wok      db 'WRITE OK', 10, 0
msg_wfail    db 'WRITE FAIL', 10, 0
msg_done     db 'FDTEST DONE', 10, 0
tracks       dw 0
retries      dw 0
tries        db 0
io_op        db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
