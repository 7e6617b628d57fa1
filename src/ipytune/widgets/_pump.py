"""Let one widget's front-end messages through while a cell keeps the kernel busy.

A kernel runs comm messages (a button click) only between cells, and a search is
one long cell, so a Stop button would be read after the search it should stop.
ipykernel 7 forwards every shell message from its shell-channel thread to the main
thread through an in-process ZMQ socket; between trials we read that socket
ourselves, handle the messages of our own widget at once, and hand every other
message (the next cells of "run all", other widgets) back to the kernel, in order,
to be handled after the cell as usual. Kernels laid out otherwise get no pump and
the dashboard says that Stop is unavailable there (use the kernel's interrupt).

This is ipytune's one adapter to ipykernel's internals. Everything it relies on is
listed here (the names are in the source of ipykernel 7.0.0 and 7.4.0; the tests in
``tests/test_widgets_stop_kernel.py`` drive the pump in a real kernel, and their canary
fails loudly when one of these moves):

- ``Kernel.initialized()`` and ``Kernel.instance()`` (``ipykernel.kernelbase``): the
  running kernel, a traitlets singleton;
- ``kernel.shell_channel_thread.manager``: the thread that reads the shell socket (7.x;
  absent in 6.x, where there is no pump) and its ``SubshellManager``;
- ``manager.get_shell_channel_to_subshell_pair(None).to_socket``: the main shell's end of
  that in-process socket pair (a public method of ``SubshellManager`` since 7.0; no
  private attribute is read);
- ``kernel.session``: jupyter_client's ``Session`` (``feed_identities``, ``deserialize``,
  ``unpack``: public jupyter_client API) to peek at a message's type and comm id;
- ``kernel.comm_manager.comm_msg(stream, idents, msg)``: the comm package's shell handler
  for comm_msg (``comm.base_comm.CommManager``), which hands our widget its message;
- ``kernel.io_loop.add_callback(kernel.shell_main, None, frames)``: ``shell_main(subshell_id,
  msg)`` is the main thread's receive callback on that socket; calling it later re-injects
  a held message exactly as the socket would have delivered it.
"""

from __future__ import annotations

from typing import Any


def main_shell_socket(kernel: Any) -> Any:
    """The socket on which ``kernel``'s main thread receives shell messages (ipykernel 7).

    Raises (AttributeError and the like) where the kernel is not laid out so.
    """
    manager = kernel.shell_channel_thread.manager
    return manager.get_shell_channel_to_subshell_pair(None).to_socket


class CommPump:
    def __init__(self, kernel: Any, socket: Any, comm_id: str) -> None:
        self.kernel = kernel
        self.socket = socket
        self.comm_id = comm_id
        self.held: list[Any] = []
        self.delivered = 0

    @classmethod
    def for_widget(cls, widget: Any) -> CommPump | None:
        """A pump for ``widget``'s comm in this kernel, or None where that cannot be done safely."""
        try:
            from ipykernel.kernelbase import Kernel

            if not Kernel.initialized():
                return None
            kernel = Kernel.instance()
            socket = main_shell_socket(kernel)
            comm_id = widget.comm.comm_id
        except Exception:  # not ipykernel 7's layout, or no kernel at all
            return None
        if kernel.session is None or not hasattr(kernel, "comm_manager") or not hasattr(kernel, "shell_main"):
            return None
        return cls(kernel, socket, comm_id)

    def poll(self) -> None:
        """Handle our widget's pending messages now; keep the others for later."""
        import zmq

        session = self.kernel.session
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            try:
                # Only peek: a full deserialize records the signature, and the kernel would
                # then reject the message it is handed back as a replay.
                idents, rest = session.feed_identities(frames, copy=False)
                peek = session.deserialize(rest, content=False, copy=False)
                ours = peek["header"]["msg_type"] == "comm_msg" and (
                    session.unpack(peek["content"]).get("comm_id") == self.comm_id
                )
            except Exception:
                ours = False  # not ours to judge: the kernel will handle (or log) it as before
            if ours:
                self.kernel.comm_manager.comm_msg(None, idents, session.deserialize(rest, content=True, copy=False))
                self.delivered += 1
            else:
                self.held.append(frames)

    def release(self) -> None:
        """Give the held messages back to the kernel, in the order they came.

        They queue behind the running cell exactly as if they had never been read.
        """
        held, self.held = self.held, []
        for frames in held:
            self.kernel.io_loop.add_callback(self.kernel.shell_main, None, frames)
