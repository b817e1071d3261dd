# Runs a command on a pseudo-terminal (120x40), copying this process's stdin to it and its output
# to stdout: a test drives tandem-client as a person at a terminal would (raw keystrokes, no pipe).
import fcntl, os, pty, select, struct, sys, termios

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
inputs = [fd, 0]
while True:
    readable, _, _ = select.select(inputs, [], [])
    if fd in readable:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in readable:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            inputs = [fd]
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
