#!/usr/bin/python3
"""A policy server speaking openpi's websocket protocol (openpi/serving/websocket_policy_server.py) for
tests and the benchmark: metadata first, then one binary msgpack frame per request and per reply, numpy
arrays as {b"__ndarray__", b"data", b"dtype", b"shape"} maps; errors go out as a text frame, then close.

It checks each request is a well-formed ALOHA-style observation ("state" float [J], "images" {name: uint8
[3, S, S]}, "prompt" str) and answers actions that move every joint a little from the state.

  openpi_test_server.py [--port 0] [--horizon 10] [--delay-ms 0]
                        [--behaviour good|nan|wrong-shape|text-error|garbage|close]
                        [--fail-while-exists FILE]  (text-error or close while FILE exists, good otherwise)
                        [--connections-log FILE]    (one line per connection accepted)
                        [--api-key KEY] [--log FILE] [--image-size 224 (0: any)] [--cameras a,b]
                        [--tls-cert CERT --tls-key KEY]   (wss://)
                        [--stall-after N --stall-seconds S [--stall-every M]]
                            (the reply after N replies comes S seconds late, then again every M replies)
                        [--error-after N [--error-every M]]
                            (request N+1, then every M-th, answered with an error text frame, then close)
                        [--serve-model MODEL.pt]   (answers with a flywheel TorchScript model, as the
                            studio runs it: the "remote" copy of a local policy)
Counts run over the server's life, across connections.
Prints "listening on PORT" once it accepts connections.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys
import time

import msgpack
import numpy as np
import websockets
import websockets.exceptions


def pack_array(obj):
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def unpack_array(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    return obj


def packb(obj):
    return msgpack.packb(obj, default=pack_array)


def unpackb(data):
    return msgpack.unpackb(data, object_hook=unpack_array)


def check_request(obs, args):
    state = obs["state"]
    if not isinstance(state, np.ndarray) or state.ndim != 1 or state.dtype.kind != "f":
        raise ValueError(f"state must be a float vector, got {type(state)}")
    images = obs["images"]
    for name in args.cameras.split(",") if args.cameras else []:
        if name not in images:
            raise ValueError(f"missing image {name}")
    for name, image in images.items():
        size = args.image_size or image.shape[-1]  # 0: any square size
        expected = (3, size, size)
        if image.dtype != np.uint8 or image.shape != expected:
            raise ValueError(f"image {name}: {image.dtype} {image.shape}, expected uint8 {expected}")
    if not isinstance(obs["prompt"], str):
        raise ValueError("prompt must be a str")
    return state, images


class ModelServer:
    """A flywheel TorchScript model (its flywheel.json contract, torchscript_policy.hpp) answering openpi
    requests: each square letterboxed image is cropped back to the model's aspect and resized."""

    def __init__(self, path):
        import torch
        self.torch = torch
        torch.set_num_threads(1)
        extra = {"flywheel.json": ""}
        self.model = torch.jit.load(path, _extra_files=extra)
        self.model.eval()
        self.spec = json.loads(extra["flywheel.json"])
        self.height, self.width = self.spec.get("image_size", [224, 224])

    def norm(self, key, values):
        mean, std = self.spec.get(key + "_mean"), self.spec.get(key + "_std")
        if mean is None:
            return values
        return (values - np.array(mean)) / np.maximum(np.array(std), 0.01)

    def unnorm(self, values):
        mean, std = self.spec.get("action_mean"), self.spec.get("action_std")
        if mean is None:
            return values
        return values * np.maximum(np.array(std), 0.01) + np.array(mean)

    def image(self, chw):
        import cv2
        size = chw.shape[-1]
        hwc = np.ascontiguousarray(chw.transpose(1, 2, 0))
        if self.width >= self.height:  # the letterbox padded top and bottom
            rows = int(round(size * self.height / self.width))
            top = (size - rows) // 2
            hwc = hwc[top:top + rows]
        else:
            cols = int(round(size * self.width / self.height))
            left = (size - cols) // 2
            hwc = hwc[:, left:left + cols]
        hwc = cv2.resize(hwc, (self.width, self.height), interpolation=cv2.INTER_AREA)
        x = hwc.astype(np.float32) / 255.0
        if "image_mean" in self.spec:
            x = (x - np.array(self.spec["image_mean"])) / np.array(self.spec["image_std"])
        return x.transpose(2, 0, 1)

    def infer(self, state, images, prompt):
        torch = self.torch
        cams = [self.image(images[name]) for name in self.spec.get("cameras", [])]
        s = torch.tensor(self.norm("state", state.astype(np.float64)), dtype=torch.float32)[None]
        shape = (1, len(cams), 3, self.height, self.width)
        imgs = torch.tensor(np.stack(cams), dtype=torch.float32)[None] if cams else torch.zeros(shape)
        with torch.no_grad():
            out = self.model(s, imgs, prompt) if self.spec.get("takes_prompt") else self.model(s, imgs)
        return self.unnorm(out[0].double().numpy()).astype(np.float32)


def counted(count, after, every):
    """Whether request number `count` (1-based) is the (after+1)-th or every `every`-th after it."""
    if after < 0 or count <= after:
        return False
    return count == after + 1 or (every > 0 and (count - after - 1) % every == 0)


async def serve(args):
    replies = 0
    requests = 0
    model = ModelServer(args.serve_model) if args.serve_model else None

    def behaviour():
        if args.fail_while_exists and not os.path.exists(args.fail_while_exists):
            return "good"
        return args.behaviour

    async def handler(websocket, path=None):
        nonlocal replies, requests
        if args.connections_log:
            with open(args.connections_log, "a") as log:
                log.write(f"{time.monotonic():.3f} {behaviour()}\n")
        if behaviour() == "close":  # gone before saying anything, as a server that crashes on connect
            await websocket.close(code=1011, reason="Internal server error")
            return
        await websocket.send(packb({"server": "flywheel-test", "horizon": args.horizon, "behaviour": args.behaviour}))
        while True:
            try:
                message = await websocket.recv()
            except websockets.exceptions.ConnectionClosed:
                return
            start = time.monotonic()
            requests += 1
            try:
                obs = unpackb(message)
                state, images = check_request(obs, args)
                if behaviour() == "text-error" or counted(requests, args.error_after, args.error_every):
                    raise RuntimeError("the model ran out of memory")
                if args.delay_ms:
                    await asyncio.sleep(args.delay_ms / 1000.0)
                if counted(requests, args.stall_after, args.stall_every):
                    await asyncio.sleep(args.stall_seconds)
                joints = state.shape[0] - (1 if args.behaviour == "wrong-shape" else 0)
                steps = np.arange(1, args.horizon + 1, dtype=np.float32)[:, None]
                if model:
                    actions = model.infer(state, images, obs["prompt"])
                else:
                    actions = (state[None, :joints].astype(np.float32) + 0.01 * steps).astype(np.float32)
                if args.behaviour == "nan":
                    actions[2, 1] = np.nan
                if args.log:
                    with open(args.log, "a") as log:
                        log.write(json.dumps({"prompt": obs["prompt"], "state": state.tolist(),
                                              "images": {k: float(v.mean()) for k, v in images.items()}}) + "\n")
                infer_ms = 1000 * (time.monotonic() - start)
                reply = {"actions": actions, "policy_timing": {"infer_ms": infer_ms},
                         "server_timing": {"infer_ms": infer_ms}}
                if args.echo_bytes:
                    reply["padding"] = np.zeros(args.echo_bytes, dtype=np.uint8)
                payload = b"\xc1not msgpack" if args.behaviour == "garbage" else packb(reply)
                await websocket.send(payload)
                replies += 1
            except Exception as error:  # as openpi's server: the error as text, then close
                await websocket.send(f"Traceback (most recent call last):\n  ...\n{type(error).__name__}: {error}")
                await websocket.close(code=1011, reason="Internal server error")
                return

    async def check_key(path, headers):
        if args.api_key and headers.get("Authorization") != f"Api-Key {args.api_key}":
            return (401, [], b"missing or wrong api key\n")
        return None

    tls = None
    if args.tls_cert:  # wss://
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    async with websockets.serve(handler, "127.0.0.1", args.port, max_size=None, compression=None,
                                process_request=check_key, ssl=tls) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await asyncio.Future()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--behaviour", default="good")
    p.add_argument("--fail-while-exists", default="")
    p.add_argument("--connections-log", default="")
    p.add_argument("--api-key", default="")
    p.add_argument("--log", default="")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--cameras", default="")
    p.add_argument("--echo-bytes", type=int, default=0)
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    p.add_argument("--stall-after", type=int, default=-1)
    p.add_argument("--stall-seconds", type=float, default=0)
    p.add_argument("--stall-every", type=int, default=0)
    p.add_argument("--error-after", type=int, default=-1)
    p.add_argument("--error-every", type=int, default=0)
    p.add_argument("--serve-model", default="")
    args = p.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
