// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BaseTest} from "./BaseTest.sol";
import {CreationReport, Position, RequestStatus, RefundReport, DeliveryState} from "../contracts/interfaces/ITAO20.sol";
import {ErrorsLib} from "../contracts/libraries/ErrorsLib.sol";
import {EventsLib} from "../contracts/libraries/EventsLib.sol";

contract MintTest is BaseTest {
    bytes32 internal id;

    function setUp() public override {
        super.setUp();
        _publish(2);
        id = _request(1, 0);
        vm.roll(block.number + 1);
        _deliver(2, 3e9);
    }

    function _r() internal view returns (CreationReport memory) {
        Position[] memory ps = new Position[](2);
        for (uint16 n = 1; n <= 2; ++n) {
            ps[n - 1] = Position({netuid: n, hotkey: minerHk(n), amount: 3e9});
        }
        return _report(id, ps, 6e9, 1e9);
    }

    function _mint(CreationReport memory r) internal returns (uint256) {
        return t.mint(r, _reportSigs(r));
    }

    function _expectMintRevert(CreationReport memory r, bytes memory err) internal {
        bytes[] memory sigs = _reportSigs(r);
        vm.expectRevert(err);
        t.mint(r, sigs);
    }

    // ------------------------------------------------------------------ fuzzing helpers

    /// @dev The setup's request, delivered `a1` and `a2` rao of netuids 1 and 2 instead of 3e9 each
    ///      (the setup's delivery is undone, then the miner's `transfer_stake` of each is replayed),
    ///      reported at `valueRao` and `nav`.
    function _redelivered(uint64 a1, uint64 a2, uint256 valueRao, uint256 nav)
        internal
        returns (CreationReport memory)
    {
        Position[] memory ps = _positions(a1, a2);
        for (uint256 i; i < 2; ++i) {
            uint16 n = ps[i].netuid;
            staking.setStake(minerHk(n), vault, n, 0);
            staking.setStake(minerHk(n), minerColdkey, n, ps[i].amount);
            staking.transferStakeFrom(minerColdkey, vault, minerHk(n), n, ps[i].amount);
        }
        return _report(id, ps, valueRao, nav);
    }

    /// @dev The most a report may value a delivery worth `spotRao` at the mock prices: the price
    ///      band's `floor(spot * (1e4 + band) / 1e4)`, 6x at deployment.
    function _maxValue(uint256 spotRao) internal view returns (uint256) {
        return spotRao * (10_000 + uint256(t.priceBand())) / 10_000;
    }

    /// @dev ITAO20.mint: `gross = floor(valueRao * 1e18 / navPerShare)`, `fee = ceil(gross * mintFeeBps / 1e4)`.
    function _grossAndFee(uint256 valueRao, uint256 nav) internal pure returns (uint256 gross, uint256 fee) {
        gross = valueRao * 1e18 / nav;
        fee = (gross * MINT_FEE + 9999) / 10_000;
    }

    // ------------------------------------------------------------------ outcomes

    /// @dev Any delivery, any value the price band allows and any NAV (the first mint has no NAV
    ///      bound) that leaves the minter something after the dead shares: gross at least 2e15.
    function testFuzz_Mint_FirstMintLocksDeadSharesAndChargesFee(uint64 amount, uint256 valueRao, uint256 nav) public {
        amount = _amount(amount);
        valueRao = bound(valueRao, 1, _maxValue(2 * uint256(amount)));
        nav = bound(nav, 1, valueRao * 500); // floor(value * 1e18 / nav) >= 2 * DEAD_SHARES
        CreationReport memory r = _redelivered(amount, amount, valueRao, nav);
        uint256 minerEth = miner.balance;
        uint256 out = _mint(r);
        assertEq(miner.balance, minerEth, "the bond is pulled, not pushed");
        (uint256 gross, uint256 fee) = _grossAndFee(valueRao, nav);
        assertEq(out, gross - fee - t.DEAD_SHARES(), "sharesOut");
        assertEq(t.balanceOf(miner), out);
        assertEq(t.balanceOf(feeRecipient), fee);
        assertEq(t.balanceOf(t.DEAD_ADDRESS()), t.DEAD_SHARES());
        assertEq(t.totalSupply(), gross, "supply is the gross");
        assertEq(uint8(t.request(id).status), uint8(RequestStatus.Minted));
        assertEq(
            uint8(t.deliveryState((uint256(r.deliveryBlock) << 32) | r.deliveryIndex)), uint8(DeliveryState.Minted)
        );
        vm.prank(makeAddr("anyone"));
        t.claimBond(id);
        assertEq(miner.balance, minerEth + BOND, "bond returned to the miner");
        assertEq(t.fundNativeBalance(), 0);
    }

    function testFuzz_Mint_MovesEveryPositionOntoTheFundHotkey(uint64 a1, uint64 a2) public {
        a1 = _amount(a1);
        a2 = _amount(a2);
        CreationReport memory r = _redelivered(a1, a2, uint256(a1) + a2, 1e9); // valued at the mock prices
        _mint(r);
        for (uint16 n = 1; n <= 2; ++n) {
            assertEq(_fundStake(n), n == 1 ? a1 : a2, "fund stake");
            assertEq(staking.stakeOf(minerHk(n), vault, n), 0, "delivery hotkey emptied");
        }
    }

    function testFuzz_Mint_EmitsCreationMinted(uint64 amount, uint256 valueRao) public {
        amount = _amount(amount);
        // At the empty fund's 1e9 rao per share, 2e6 rao is a gross of twice the dead shares.
        valueRao = bound(valueRao, 2e6, _maxValue(2 * uint256(amount)));
        CreationReport memory r = _redelivered(amount, amount, valueRao, 1e9);
        (uint256 gross, uint256 fee) = _grossAndFee(valueRao, 1e9);
        bytes[] memory sigs = _reportSigs(r);
        vm.expectEmit(true, true, true, true, address(t));
        emit EventsLib.CreationMinted(id, miner, 0, 1, valueRao, gross - fee - t.DEAD_SHARES());
        t.mint(r, sigs);
    }

    function test_Mint_AnyoneMayRelayWithAllFiveSignatures() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _sigs(_digest(hasher.creationReport(r)), 5);
        vm.prank(makeAddr("relayer"));
        assertGt(t.mint(r, sigs), 0);
    }

    /// @dev Any second delivery, any value the price band allows, any NAV at least the band's share
    ///      of the fund's (1/6 at deployment) that still leaves a share after the fee.
    function testFuzz_Mint_SecondMintUsesTheReportNav(uint64 amount, uint256 valueRao, uint256 nav) public {
        _mint(_r());
        uint256 supplyBefore = t.totalSupply();
        uint256 feesBefore = t.balanceOf(feeRecipient);
        uint64 lastAccrual = t.lastAccrual();
        // The fund's NAV at the mock prices (1 TAO per alpha), before the management fee this mint
        // accrues: at least the NAV `mint` checks the report's against.
        uint256 fundNav = (_fundStake(1) + _fundStake(2)) * 1e18 / supplyBefore;
        uint256 factor = 10_000 + uint256(t.priceBand());
        amount = _amount(amount);
        valueRao = bound(valueRao, 1, _maxValue(amount));
        nav = bound(nav, (fundNav * 10_000 + factor - 1) / factor, valueRao * 5e17); // gross >= 2
        (uint256 shares,) = _createShares(amount, valueRao, nav);
        (uint256 gross, uint256 fee) = _grossAndFee(valueRao, nav);
        assertEq(shares, gross - fee, "sharesOut: no dead shares after the first mint");
        assertEq(t.balanceOf(miner), shares + _firstMintOut(), "the receiver");
        uint256 accrued = supplyBefore * MGMT_FEE * (block.number - lastAccrual) / (10_000 * 2_629_800);
        assertEq(t.balanceOf(feeRecipient), feesBefore + fee + accrued, "mint fee and management fee");
        assertEq(t.totalSupply(), supplyBefore + accrued + gross, "supply grows by the gross and the accrual");
        assertEq(_fundStake(1), 3e9 + uint256(amount), "the delivery joined the fund");
    }

    /// @dev What the setup's first mint (6e9 rao at 1e9 rao per share) paid its receiver.
    function _firstMintOut() internal pure returns (uint256) {
        return 6e18 - (6e18 * uint256(MINT_FEE) + 9999) / 10_000 - 1e15;
    }

    function test_Mint_AfterTheWindowStillMintsADeliveryInsideIt() public {
        CreationReport memory r = _r();
        vm.roll(block.number + 5000);
        assertGt(_mint(r), 0);
    }

    // ------------------------------------------------------------------ reverts: signatures

    function test_RevertWhen_Mint_ReportReplayed() public {
        CreationReport memory r = _r();
        _mint(r);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.RequestNotPending.selector, id, RequestStatus.Minted));
    }

    function test_RevertWhen_Mint_WrongChainIdInDomain() public {
        CreationReport memory r = _r();
        bytes32 digest = _digestFor(999, address(t), hasher.creationReport(r));
        bytes[] memory sigs = _sigs(digest, THRESHOLD);
        vm.expectRevert();
        t.mint(r, sigs);
        (bool ok, bytes memory err) = address(t).call(abi.encodeCall(t.mint, (r, sigs)));
        assertFalse(ok);
        assertEq(bytes4(err), ErrorsLib.NotSigner.selector);
    }

    function test_RevertWhen_Mint_WrongContractInDomain() public {
        CreationReport memory r = _r();
        bytes32 digest = _digestFor(block.chainid, address(0xBEEF), hasher.creationReport(r));
        bytes[] memory sigs = _sigs(digest, THRESHOLD);
        (bool ok, bytes memory err) = address(t).call(abi.encodeCall(t.mint, (r, sigs)));
        assertFalse(ok);
        assertEq(bytes4(err), ErrorsLib.NotSigner.selector);
    }

    function test_Mint_DomainFollowsAChainIdChange() public {
        CreationReport memory r = _r();
        vm.chainId(945);
        bytes[] memory sigs = _sigs(_digestFor(945, address(t), hasher.creationReport(r)), THRESHOLD);
        assertGt(t.mint(r, sigs), 0);
    }

    function test_RevertWhen_Mint_OlderSignerSetVersion() public {
        CreationReport memory r = _r();
        address[] memory list = new address[](4);
        for (uint256 i; i < 4; ++i) {
            list[i] = signerAddrs[i];
        }
        _rotateSigners(list, 3);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.StaleSignerSet.selector, 1, 2));
    }

    function test_RevertWhen_Mint_SignedByARemovedSigner() public {
        CreationReport memory r = _r();
        address[] memory list = new address[](4);
        for (uint256 i; i < 4; ++i) {
            list[i] = signerAddrs[i + 1];
        }
        _rotateSigners(list, 3);
        r.signerSetVersion = 2;
        bytes[] memory sigs = _sigs(_digest(hasher.creationReport(r)), 3); // signerAddrs[0] removed
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotSigner.selector, 0, signerAddrs[0]));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_SignaturesUnsorted() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ErrorsLib.UnsortedSignatures.selector, 1, signerAddrs[0], signerAddrs[1])
        );
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_DuplicateSignature() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        sigs[1] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.DuplicateSigner.selector, 1, signerAddrs[0]));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_NonMemberSignature() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        uint256 outsider = uint256(keccak256("tao20.test.outsider"));
        sigs[3] = _sigOf(outsider, _digest(hasher.creationReport(r)));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotSigner.selector, 3, vm.addr(outsider)));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_HighS() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        sigs[2] = _highS(sigs[2]);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSignatureS.selector, 2));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_ZeroAddressRecovered() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        sigs[0] = abi.encodePacked(bytes32(0), bytes32(uint256(1)), uint8(27));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ZeroSigner.selector, 0));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_InvalidV() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        (bytes32 rr, bytes32 ss,) = _split(sigs[0]);
        sigs[0] = abi.encodePacked(rr, ss, uint8(29));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSignatureV.selector, 0, 29));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_SignatureNot65Bytes() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        sigs[1] = abi.encodePacked(bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidSignatureLength.selector, 1, 64));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_BelowThreshold() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _sigs(_digest(hasher.creationReport(r)), THRESHOLD - 1);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BelowThreshold.selector, 3, 4));
        t.mint(r, sigs);
    }

    function test_RevertWhen_Mint_ReportAlteredAfterSigning() public {
        CreationReport memory r = _r();
        bytes[] memory sigs = _reportSigs(r);
        r.valueRao += 1;
        (bool ok, bytes memory err) = address(t).call(abi.encodeCall(t.mint, (r, sigs)));
        assertFalse(ok);
        assertEq(bytes4(err), ErrorsLib.NotSigner.selector);
    }

    // ------------------------------------------------------------------ reverts: report vs request

    function test_RevertWhen_Mint_WrongEpoch() public {
        CreationReport memory r = _r();
        r.epochId = 1;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.EpochMismatch.selector));
    }

    function test_RevertWhen_Mint_WrongCreationFile() public {
        CreationReport memory r = _r();
        r.creationFileHash = keccak256("another file");
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.FileHashMismatch.selector));
    }

    function test_RevertWhen_Mint_WrongReceiver() public {
        CreationReport memory r = _r();
        r.receiver = holder;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.ReceiverMismatch.selector));
    }

    function test_RevertWhen_Mint_WrongUnits() public {
        CreationReport memory r = _r();
        r.units = 2;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.UnitsMismatch.selector));
    }

    function test_RevertWhen_Mint_DeliveryInTheRequestBlock() public {
        CreationReport memory r = _r();
        r.deliveryBlock = t.request(id).requestBlock;
        _expectMintRevert(
            r,
            abi.encodeWithSelector(
                ErrorsLib.DeliveryOutsideWindow.selector, r.deliveryBlock, r.deliveryBlock + 1, r.deliveryBlock + WINDOW
            )
        );
    }

    function test_RevertWhen_Mint_DeliveryAfterTheWindow() public {
        CreationReport memory r = _r();
        uint64 rb = t.request(id).requestBlock;
        r.deliveryBlock = rb + WINDOW + 1;
        _expectMintRevert(
            r, abi.encodeWithSelector(ErrorsLib.DeliveryOutsideWindow.selector, r.deliveryBlock, rb + 1, rb + WINDOW)
        );
    }

    function test_Mint_DeliveryInTheLastBlockOfTheWindow() public {
        CreationReport memory r = _r();
        r.deliveryBlock = t.request(id).requestBlock + WINDOW;
        assertGt(_mint(r), 0);
    }

    function test_RevertWhen_Mint_UnknownRequest() public {
        CreationReport memory r = _r();
        r.requestId = keccak256("nope");
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, r.requestId));
    }

    function test_RevertWhen_Mint_RequestRefunded() public {
        CreationReport memory r = _r();
        vm.roll(block.number + WINDOW + 1);
        RefundReport memory rr = _refundReport(id, minerColdkey, r.positions, r.deliveryBlock);
        t.refund(rr, _refundSigs(rr));
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.RequestNotPending.selector, id, RequestStatus.Refunded));
    }

    function test_RevertWhen_Mint_RequestExpired() public {
        CreationReport memory r = _r();
        vm.roll(block.number + WINDOW + GRACE + 1);
        t.expire(id);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.RequestNotPending.selector, id, RequestStatus.Expired));
    }

    // ------------------------------------------------------------------ reverts: positions and shares

    function test_RevertWhen_Mint_PositionNotHeldByTheVault() public {
        CreationReport memory r = _r();
        r.positions[1].amount = 3e9 + 2; // one rao short is the share pool's rounding, two is not held
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.PositionNotHeld.selector, 2, minerHk(2), 3e9, 3e9 + 2));
    }

    /// @dev The share pool may credit a delivery of `a` as `a - 1` (primitives/share-pool truncates):
    ///      the report names the delivered `a`, as keepers read it from `StakeAdded`, and still mints.
    ///      `a - 1` must itself be worth the runtime minimum, else the move is refused.
    function testFuzz_Mint_AcceptsTheSharePoolsOneRaoShortfall(uint64 amount) public {
        amount = uint64(bound(amount, MIN_STAKE + 1, type(uint64).max));
        staking.setStake(minerHk(1), vault, 1, amount - 1);
        staking.setStake(minerHk(2), vault, 2, amount - 1);
        uint256 valueRao = 2 * (uint256(amount) - 1); // what the fund receives, at the mock prices
        CreationReport memory r = _report(id, _positions(amount, amount), valueRao, 1e9); // names `amount`
        (uint256 gross, uint256 fee) = _grossAndFee(valueRao, 1e9);
        assertEq(_mint(r), gross - fee - t.DEAD_SHARES(), "sharesOut");
        for (uint16 n = 1; n <= 2; ++n) {
            assertEq(_fundStake(n), amount - 1, "the fund receives what the pool holds");
            assertEq(staking.stakeOf(minerHk(n), vault, n), 0, "delivery hotkey emptied");
        }
    }

    function test_Mint_RecordsItsDeliveryForEveryRequestOfTheBlock() public {
        // Six requests in one block: their mint record spills over its first slot.
        vm.roll(block.number + 1);
        bytes32[] memory ids = new bytes32[](6);
        for (uint256 k; k < 6; ++k) {
            ids[k] = _request(1, 0);
        }
        vm.roll(block.number + 1);
        for (uint256 k; k < 6; ++k) {
            Position[] memory ps = _deliver(2, 3e9);
            CreationReport memory r = _report(ids[k], ps, 6e9, 1e9);
            r.deliveryIndex = uint32(10 + k);
            _mint(r);
            uint256 did = (uint256(r.deliveryBlock) << 32) | r.deliveryIndex;
            assertEq(uint8(t.deliveryState(did)), uint8(DeliveryState.Minted), "recorded");
        }
        uint256 other = (uint256(block.number) << 32) | 9;
        assertEq(uint8(t.deliveryState(other)), uint8(DeliveryState.Open), "only those");
    }

    function test_RevertWhen_Mint_DeliveryPartlyRefunded() public {
        CreationReport memory r = _r();
        Position[] memory one = new Position[](1);
        one[0] = r.positions[0];
        RefundReport memory rr = _refundReport(bytes32(0), minerColdkey, one, r.deliveryBlock);
        rr.deliveryIndex = r.deliveryIndex; // an orphan refund of this very delivery
        t.refund(rr, _refundSigs(rr));
        _expectMintRevert(
            r,
            abi.encodeWithSelector(
                ErrorsLib.DeliverySettled.selector, r.deliveryBlock, r.deliveryIndex, DeliveryState.Refunding
            )
        );
    }

    function test_RevertWhen_Mint_PositionOnAFundHotkey() public {
        CreationReport memory r = _r();
        r.positions[0].hotkey = fundHk(1);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.FundHotkeyPosition.selector, 1, fundHk(1)));
    }

    function test_RevertWhen_Mint_PositionsUnsorted() public {
        CreationReport memory r = _r();
        (r.positions[0], r.positions[1]) = (r.positions[1], r.positions[0]);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.PositionsNotSorted.selector, 1));
    }

    function test_RevertWhen_Mint_DuplicatePosition() public {
        CreationReport memory r = _r();
        r.positions[1] = r.positions[0];
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.PositionsNotSorted.selector, 1));
    }

    function test_RevertWhen_Mint_NetuidWithoutFundHotkey() public {
        CreationReport memory r = _r();
        r.positions[1].netuid = 77;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.UnknownNetuid.selector, 77));
    }

    function test_RevertWhen_Mint_NoPositions() public {
        CreationReport memory r = _r();
        delete r.positions;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.NoPositions.selector));
    }

    function test_RevertWhen_Mint_ZeroNav() public {
        CreationReport memory r = _r();
        r.navPerShare = 0;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.ZeroNav.selector));
    }

    function test_RevertWhen_Mint_GrossIsZero() public {
        CreationReport memory r = _r();
        r.valueRao = 0;
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.ZeroShares.selector));
    }

    function test_RevertWhen_Mint_FirstMintTooSmallForTheDeadShares() public {
        CreationReport memory r = _r();
        r.valueRao = 1e6; // gross 1e15: nothing left after the dead shares
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.ZeroShares.selector));
    }

    function testFuzz_RevertWhen_Mint_SharesBelowMinSharesOut(uint256 valueRao, uint256 minSharesOut) public {
        valueRao = bound(valueRao, 2e6, _maxValue(6e9)); // gross at least twice the dead shares
        (uint256 gross, uint256 fee) = _grossAndFee(valueRao, 1e9);
        uint256 out = gross - fee - t.DEAD_SHARES();
        minSharesOut = bound(minSharesOut, out + 1, type(uint128).max); // requestCreation's limit
        vm.roll(block.number + 1);
        vm.prank(miner);
        bytes32 id2 = t.requestCreation{value: BOND}(1, minerColdkey, miner, minSharesOut);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(2, 3e9);
        CreationReport memory r = _report(id2, ps, valueRao, 1e9);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.SlippageExceeded.selector, out, minSharesOut));
    }

    function test_RevertWhen_Mint_Paused() public {
        CreationReport memory r = _r();
        vm.prank(guardian);
        t.setPaused(true);
        _expectMintRevert(r, abi.encodeWithSelector(ErrorsLib.Paused.selector));
    }

    function test_Mint_AMinerThatRefusesNativeTaoStillMints() public {
        CreationReport memory r = _r();
        RejectingMiner rm = new RejectingMiner();
        vm.deal(address(rm), 10 ether);
        vm.prank(address(rm));
        bytes32 id2 = t.requestCreation{value: BOND}(1, minerColdkey, address(rm), 0);
        vm.roll(block.number + 1);
        Position[] memory ps = _deliver(2, 3e9);
        r = _report(id2, ps, 6e9, 1e9);
        assertGt(_mint(r), 0, "the bond is not pushed, so it cannot block the mint");
        assertEq(t.fundNativeBalance(), 0, "the unclaimed bond is not the fund's");
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NativeTransferFailed.selector, address(rm), BOND));
        t.claimBond(id2);
        rm.setAccept(true);
        t.claimBond(id2);
        assertEq(address(rm).balance, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BondNotClaimable.selector, id2));
        t.claimBond(id2);
    }

    function test_RevertWhen_ClaimBond_NotMinted() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.BondNotClaimable.selector, id));
        t.claimBond(id);
    }
}

contract RejectingMiner {
    bool internal accept;

    function setAccept(bool a) external {
        accept = a;
    }

    receive() external payable {
        require(accept, "no thanks");
    }
}
