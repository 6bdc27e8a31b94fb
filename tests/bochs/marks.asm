; fdplug's Bochs mark probe: a boot sector (nasm -f bin, 512 bytes) that reads sectors of C2/H1
; through the 82077AA's own ports, in PIO (SPECIFY ND = 1), after the BIOS has booted it. INT 13h
; cannot do this: SeaBIOS refuses R above the sectors per track and reads with SK = 1, so a
; deleted sector never reaches the caller. It prints on Bochs' port 0xE9:
;   FDMARK boot
;   SEEK ss pp                                        SENSE INTERRUPT after SEEK to C2: ST0, PCN
;   MARK oo rr  s0 s1 s2 c h r n  bbbb ssss           one per probe: opcode, R asked for, the
;                                                     seven result bytes, bytes moved, their sum
;   FDMARK DONE
; and stops Bochs. The probes (run_marks.py holds what each must give, docs/hardware/82077aa.md
; §6.1, §6.5, §6.6): READ DATA of R=9, READ DATA of R=19, READ DELETED DATA of R=19, READ DATA
; of R=20, each MT = 0, SK = 0, EOT = R. Interrupts stay off: the BIOS' IRQ 6 and motor-off timer
; keep out of the controller's way, and the code polls MSR instead.

%include "bootsect.inc"           ; org 0x7C00; the entry: segments, stack, msg_boot; then main

DOR        equ 0x3F2
MSR        equ 0x3F4              ; FIFO = MSR + 1
CCR        equ 0x3F7
PROBE_C    equ 2
PROBE_H    equ 1

main:
        cli
        mov dx, DOR
        mov al, 0x1C                 ; drive 0 selected, its motor on, DMA gate, not in reset
        out dx, al
        mov dx, CCR
        xor al, al                   ; 500 kbit/s
        out dx, al
        mov si, cmd_specify
        call send_list
        mov si, cmd_seek
        call send_list
.sense: mov al, 0x08                 ; SENSE INTERRUPT until the seek's interrupt is there
        call send
        call recv
        cmp al, 0x80                 ; invalid: nothing pending yet (one result byte)
        je .sense
        push ax
        mov si, msg_seek
        call puts
        pop ax
        call hex8
        call recv
        call space_hex8
        call newline

        mov bp, probes
.probe: mov si, msg_mark
        call puts
        mov al, [bp]                 ; opcode
        mov [cmd_read], al
        call hex8
        mov al, [bp + 1]             ; R, which is also EOT
        mov [cmd_read + 4], al
        mov [cmd_read + 6], al
        call space_hex8
        mov al, ' '
        call putc
        mov si, cmd_read_list
        call send_list
        xor bx, bx                   ; bytes moved
        xor di, di                   ; their sum
.exec:  call wait_rqm
        test al, 0x20                ; NON-DMA: still the execution phase
        jz .result
        inc dx
        in al, dx
        inc bx
        movzx ax, al
        add di, ax
        jmp .exec
.result:
        mov cx, 7
.res:   call recv
        call space_hex8
        loop .res
        mov al, ' '
        call putc
        mov ax, bx
        call space_hex16
        mov ax, di
        call space_hex16
        call newline
        add bp, 2
        cmp bp, probes_end
        jb .probe

        mov si, msg_done
        call puts
        jmp shutdown

; MSR in AL once RQM is set; DX = MSR.
wait_rqm:
        mov dx, MSR
.w:     in al, dx
        test al, 0x80
        jz .w
        ret

; AL to the FIFO once the controller wants a byte (RQM, DIO = 0). Keeps AX.
send:   push ax
.w:     call wait_rqm
        test al, 0x40
        jnz .w
        inc dx
        pop ax
        out dx, al
        ret

; A byte from the FIFO in AL once the controller offers one (RQM, DIO = 1).
recv:   call wait_rqm
        test al, 0x40
        jz recv
        inc dx
        in al, dx
        ret

; The bytes at SI, preceded by their count.
send_list:
        lodsb
        movzx cx, al
.l:     lodsb
        call send
        loop .l
        ret

space_hex8:
        push ax
        mov al, ' '
        call putc
        pop ax
        jmp hex8

space_hex16:
        push ax
        mov al, ' '
        call putc
        pop ax
        jmp hex16

msg_boot     db 'FDMARK boot', 10, 0
msg_seek     db 'SEEK ', 0
msg_mark     db 'MARK ', 0
msg_done     db 'FDMARK DONE', 10, 0
cmd_specify  db 3, 0x03, 0xDF, 0x03               ; SRT 3 ms, HUT 240 ms, HLT 2 ms, ND = 1
cmd_seek     db 3, 0x0F, PROBE_H << 2, PROBE_C    ; SEEK drive 0, head 1, to cylinder 2
cmd_read_list db 9
cmd_read     db 0, PROBE_H << 2, PROBE_C, PROBE_H, 0, 2, 0, 0x1B, 0xFF
probes       db 0x46, 9, 0x46, 19, 0x4C, 19, 0x46, 20  ; MFM READ DATA / READ DELETED DATA, R
probes_end:

        times 510 - ($ - $$) db 0
        dw 0xAA55
