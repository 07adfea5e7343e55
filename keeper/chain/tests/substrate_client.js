// The devnet's Substrate endpoint through @polkadot/api (npm, the client of polkadot.js apps and
// most Substrate tooling): it connects, decodes the served metadata with its own codec, reads at
// the finalized head what the Rust test (substrate_node.rs) compares with the simulator, and
// follows finalized heads for 20 blocks, checking that each names the previous one's hash.
//
// Usage: node substrate_client.js WS_URL HOTKEY_SS58 COLDKEY_SS58 COMMITTER_SS58
'use strict';

const { ApiPromise, WsProvider } = require('@polkadot/api');

async function main() {
  const [url, hotkey, coldkey, committer] = process.argv.slice(2);
  const provider = new WsProvider(url, false);
  await provider.connect();
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
  const out = {};
  const head = await api.rpc.chain.getFinalizedHead();
  const at = await api.at(head);
  out.head = (await api.rpc.chain.getHeader(head)).number.toNumber();
  out.specVersion = api.runtimeVersion.specVersion.toNumber();
  out.chain = (await api.rpc.system.chain()).toString();
  out.tempo = (await at.query.subtensorModule.tempo(1)).toNumber();
  out.weights = (await at.query.subtensorModule.weights(4097, 2)).toJSON();
  const commitment = (await at.query.commitments.commitmentOf(1, committer)).unwrap();
  out.commitmentBlock = commitment.block.toNumber();
  out.commitmentFields = commitment.info.fields.map((f) => f.value.toHex());
  const stake = await at.call.stakeInfoRuntimeApi.getStakeInfoForHotkeyColdkeyNetuid(
    hotkey,
    coldkey,
    1,
  );
  out.stake = stake.unwrap().stake.toString();
  const alice = await at.query.system.account('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
  out.aliceFree = alice.data.free.toString();

  // Finalized heads, in order, each naming its predecessor's hash.
  out.followed = [];
  let previous = null;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no 20 finalized heads in 60 s')), 60000);
    api.rpc.chain
      .subscribeFinalizedHeads((header) => {
        // Notifications already on the wire may still arrive after the twentieth.
        if (out.followed.length === 20) {
          return;
        }
        const entry = { number: header.number.toNumber(), hash: header.hash.toHex() };
        if (previous !== null) {
          entry.linked =
            header.parentHash.toHex() === previous.hash && entry.number === previous.number + 1;
        }
        out.followed.push(entry);
        previous = entry;
        if (out.followed.length === 20) {
          clearTimeout(timer);
          resolve();
        }
      })
      .catch(reject);
  });
  // The hash the client computed for the last header is the node's hash of that block.
  out.lastHashFromNode = (await api.rpc.chain.getBlockHash(previous.number)).toHex();
  await api.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  },
);
