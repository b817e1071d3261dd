#!/usr/bin/python3
"""A wire-v1 client written as seed 003's stages 3-5 describe, on aiortc: the peer a tandem client
must never break. Like the seed's, its `datachannel` handler takes whatever channel it is handed
as its chat channel, so one extra channel from the other side would replace chat; it prints every
channel it is handed (`*** datachannel <label> ***`), so the test can prove it saw only `chat`.

Usage: v1-peer.py URL [TARGET_ID]. Lines on stdin are sent as chat once the channel is open."""
import asyncio
import json
import sys

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

URL = sys.argv[1]
TARGET = sys.argv[2] if len(sys.argv) > 2 else None


def say(line):
    print(line, flush=True)


async def main():
    pc = None
    data_channel = None
    async with websockets.connect(URL) as ws:

        def setup_datachannel_handlers(channel):
            @channel.on("open")
            def on_open():
                say("*** Data channel opened! ***")

            @channel.on("message")
            def on_message(message):
                if isinstance(message, str):
                    say(f"< Peer: {message}")
                else:
                    say(f"< Peer: <{len(message)} bytes>")

            @channel.on("close")
            def on_close():
                say("*** Data channel closed ***")

        async def start_webrtc(initiator):
            nonlocal pc, data_channel
            pc = RTCPeerConnection()

            @pc.on("datachannel")
            def on_datachannel(channel):
                nonlocal data_channel
                # stage 4: assign the received channel to the global data_channel
                say(f"*** datachannel {channel.label} protocol={channel.protocol!r} ***")
                data_channel = channel
                setup_datachannel_handlers(channel)
                if channel.readyState == "open":
                    say("*** Data channel opened! ***")

            if initiator:
                data_channel = pc.createDataChannel("chat")
                setup_datachannel_handlers(data_channel)
                await pc.setLocalDescription(await pc.createOffer())
                await ws.send(json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}))

        async def read_stdin():
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if line == "":
                    return
                line = line.strip()
                if line and data_channel is not None and data_channel.readyState == "open":
                    data_channel.send(line)
                elif line:
                    say("Waiting for data channel...")

        asyncio.ensure_future(read_stdin())
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "your_id":
                say(f"*** Your Client ID: {msg['id']} ***")
                if TARGET:
                    await ws.send(json.dumps({"type": "pair_request", "target_id": TARGET}))
            elif kind == "paired":
                say(f"*** Paired with {msg['peer_id']}! (initiator={str(msg['initiator']).lower()}) ***")
                await start_webrtc(msg["initiator"])
            elif kind == "offer":
                if "m=audio" in msg["sdp"] or "m=video" in msg["sdp"]:
                    say("*** media offer ***")  # a v1 client never asked for one
                if pc is None:
                    await start_webrtc(False)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await ws.send(json.dumps({"type": "answer", "sdp": pc.localDescription.sdp}))
            elif kind == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
            elif kind == "candidate":
                c = msg["candidate"]
                if pc is not None and c.get("candidate"):
                    cand = candidate_from_sdp(c["candidate"].split(":", 1)[1])
                    cand.sdpMid = c.get("sdpMid")
                    cand.sdpMLineIndex = c.get("sdpMLineIndex")
                    await pc.addIceCandidate(cand)
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "peer_disconnected":
                say(f"*** Peer {msg['peer_id']} disconnected. ***")
            elif kind == "error":
                say(f"Server error: {msg['message']}")


asyncio.run(main())
